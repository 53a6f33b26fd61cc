import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NEVER, Observable, of } from 'rxjs';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { createHttpSdHandler } from '../../lib/http-sd/createHttpSdHandler';
import type { Registry } from '../../lib/registry/Registry';
import { httpGet } from '../../lib/testing/httpGet';
import { testLogger } from '../support/testLogger';

/** A registry whose `big` service is still being read (its first list never comes) beside `web`. */
function registryReadingBig(): Registry {
  const lists: Record<string, Observable<readonly Endpoint[]>> = {
    web: of([{ service: 'web', address: '10.0.0.1:80' }]),
    big: NEVER,
  };
  return {
    listsServices: true,
    logger: testLogger().logger,
    validateService: (service: unknown) => service as string,
    services$: () => of(['big', 'web']),
    endpoints$: (service: string) => lists[service] ?? of([]),
  } as unknown as Registry;
}

describe('createHttpSdHandler, while one service is still being read', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const handler = createHttpSdHandler(registryReadingBig(), { readyTimeoutMs: 200 });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers a request for another service at once', async () => {
    const web = await httpGet(`${url}/?service=web`);
    expect(web.status).toBe(200);
    const [group] = JSON.parse(web.body) as { targets: string[]; labels: Record<string, string> }[];
    expect(group?.targets).toEqual(['10.0.0.1:80']);
    expect(group?.labels.__meta_gsr_service).toBe('web');
    // A service no one registered is known to have no endpoints: answered too.
    expect((await httpGet(`${url}/?service=nosuch`)).body).toBe('[]');
  });

  it('answers 503 for every service, or that one, until its first list has arrived', async () => {
    for (const path of ['/', '/?service=big', '/?service=web&service=big']) {
      const answer = await httpGet(`${url}${path}`);
      expect(answer.status).toBe(503);
      expect(answer.body).toContain('waiting for etcd');
    }
  });
});
