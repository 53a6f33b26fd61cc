import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const specRoot = __dirname;

/** What only an integration spec does: start etcd, a process, a server, a browser. */
const STARTS_SOMETHING =
  /EtcdCluster|EtcdMember|EtcdGrpcProxy|connectTest|runNode|spawn|execFile|playwright|createServer/;

describe('jest projects', () => {
  const specs = readdirSync(specRoot, { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.spec.ts'),
  );

  it('name every spec that starts etcd or a process *.integration.spec.ts, so `unit` stays fast', () => {
    const misnamed = specs.filter(
      (file) =>
        !file.endsWith('.integration.spec.ts') &&
        STARTS_SOMETHING.test(readFileSync(join(specRoot, file), 'utf8')) &&
        file !== 'projects.spec.ts',
    );
    expect(misnamed).toEqual([]);
  });
});
