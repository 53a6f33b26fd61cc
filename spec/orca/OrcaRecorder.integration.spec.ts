import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ORCA_HEADER, readOrcaReport } from '../../lib/orca/orcaCodec';
import { OrcaRecorder } from '../../lib/orca/OrcaRecorder';

describe('OrcaRecorder on a real HTTP server', () => {
  it('puts its report on real HTTP responses and counts 5xx as errors', async () => {
    const recorder = new OrcaRecorder();
    const server = createServer((request, response) => {
      recorder.track(response);
      response.statusCode = request.url === '/fail' ? 503 : 200;
      response.end();
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    for (const path of ['/', '/', '/fail']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(readOrcaReport(response.headers.get(ORCA_HEADER) ?? '')).toBeDefined();
    }
    const last = await fetch(`http://127.0.0.1:${port}/`);
    expect(readOrcaReport(last.headers.get(ORCA_HEADER) ?? '')?.eps).toBeGreaterThan(0);
    expect(recorder.report().qps).toBeGreaterThan(0);
    expect(recorder.report().eps).toBeGreaterThan(0);
    server.closeAllConnections();
    server.close();
    recorder.close();
  });
});
