import { runNode } from '../support/runNode';

describe.each([
  ['npm run demo:grpc', []],
  ['npm run demo:grpc -- --layout etcd-naming', ['--layout', 'etcd-naming']],
])('%s', (_command, args) => {
  it('spreads calls over both greeters, then only the one still registered, then through xDS, and exits 0', async () => {
    const run = await runNode(['--import', 'tsx', 'demo/grpc.ts', ...args], {
      env: { GSR_ETCD_ENDPOINTS: undefined, GSR_KEY_PREFIX: undefined },
      timeoutMs: 60_000,
    });
    expect(run.stderr).not.toContain('demo failed');
    expect(run.code).toBe(0);
    const [before, rest] = run.stdout.split('greeter-1 deregistered (its server still runs)');
    const [after, xds] = (rest ?? '').split('greeter-1 registered again');
    expect(before).toMatch(/call \d: greeter-1 says hello/);
    expect(before).toMatch(/call \d: greeter-2 says hello/);
    expect(after?.match(/greeter-2 says hello to call (7|8|9|10)\n/g)).toHaveLength(4);
    expect(after).not.toContain('greeter-1');
    expect(run.stdout).toContain(
      args.length === 0 ? 'client dials gsr:///greeter' : 'client dials gsr:///demo/greeter',
    );
    if (args.length === 0) {
      // The same servers through gsr's xDS server, to a proxyless client of @grpc/grpc-js-xds.
      expect(xds).toMatch(/an xDS client dials xds:\/\/\/greeter/);
      expect(xds?.match(/call (11|12|13|14): greeter-[12] says hello/g)).toHaveLength(4);
      expect(xds).toContain('0 rejected');
    } else {
      expect(xds).toBeUndefined();
    }
  });
});
