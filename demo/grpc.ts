/**
 * `npm run demo:grpc`: a gRPC client that reaches a service by its gsr name. Two gRPC servers register
 * themselves as `greeter`; one client on `gsr:///greeter`, with round_robin, spreads its calls over both.
 * Then one server deregisters (it keeps running) and the same client's calls all go to the other.
 *
 * `npm run demo:grpc -- --layout etcd-naming` does the same on etcd's own naming layout (target
 * `demo/greeter`, keys `demo/greeter/<address>` with etcd's JSON values), where grpc-go clients on
 * etcd's resolver find the same servers.
 *
 * Last, the same servers through gsr's xDS control plane: a client of @grpc/grpc-js-xds dials
 * `xds:///greeter`, bootstrapped to a `createXdsServer` on the same registry, as a grpc-go or grpc-java
 * client would (not with `--layout etcd-naming`, whose targets hold "/").
 *
 * Without GSR_ETCD_ENDPOINTS it starts a throwaway etcd of its own. The service is defined in code with
 * JSON messages, so that the demo needs no .proto file; a generated client works the same way.
 */
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { register as registerXdsScheme } from '@grpc/grpc-js-xds';
import { firstValueFrom, filter } from 'rxjs';
import { Registry } from '../lib';
import { installGrpcResolver } from '../lib/grpc';
import { createXdsServer } from '../lib/xds';
import { EtcdCluster } from '../lib/testing';

interface Greeting {
  readonly message: string;
}

const SAY_HELLO = '/demo.Greeter/SayHello';
const serialize = (value: Greeting) => Buffer.from(JSON.stringify(value));
const deserialize = (buffer: Buffer) => JSON.parse(buffer.toString()) as Greeting;
const greeter: grpc.ServiceDefinition = {
  SayHello: {
    path: SAY_HELLO,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  },
};

/** A greeter gRPC server on a free loopback port, answering with its own name. */
async function startGreeter(name: string): Promise<{ address: string; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(greeter, {
    SayHello: (
      call: grpc.ServerUnaryCall<Greeting, Greeting>,
      callback: grpc.sendUnaryData<Greeting>,
    ) => {
      callback(null, { message: `${name} says hello to ${call.request.message}` });
    },
  });
  const bind = promisify(server.bindAsync.bind(server));
  const port = await bind('127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  return { address: `127.0.0.1:${port}`, server };
}

function sayHello(client: grpc.Client, to: string): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      SAY_HELLO,
      serialize,
      deserialize,
      { message: to },
      new grpc.Metadata({ waitForReady: true }),
      { deadline: Date.now() + 5000 },
      (error, response) => {
        if (error !== null || response === undefined) {
          reject(error ?? new Error('no response'));
        } else {
          resolve(response.message);
        }
      },
    );
  });
}

/** `--layout etcd-naming`: etcd's naming layout, where grpc-go clients on etcd's resolver look. */
const naming = process.argv.slice(2).join(' ').includes('--layout etcd-naming');

async function main(): Promise<void> {
  const own = process.env.GSR_ETCD_ENDPOINTS === undefined ? await EtcdCluster.start() : undefined;
  // Under etcd's layout a target may hold "/": a Go client would dial etcd:///demo/greeter.
  const service = naming ? 'demo/greeter' : 'greeter';
  const registry = await Registry.connect({
    etcdEndpoints: own?.endpoints,
    ...(naming
      ? { keyLayout: 'etcd-naming', keyPrefix: process.env.GSR_KEY_PREFIX }
      : { keyPrefix: process.env.GSR_KEY_PREFIX ?? (own ? 'gsr/' : 'gsr-demo/') }),
  });
  const servers = await Promise.all([startGreeter('greeter-1'), startGreeter('greeter-2')]);
  const registrations = servers.map(({ address }, i) =>
    registry.register({ service, address }).subscribe((registration) => {
      if (i === 0 && !registration.reregistered) {
        console.log(`key layout ${registry.config.keyLayout}: ${registration.key}`);
      }
    }),
  );
  const until = (count: number) =>
    firstValueFrom(registry.endpoints$(service).pipe(filter((list) => list.length === count)));
  let client: grpc.Client | undefined;
  try {
    await until(2);
    console.log(`greeter registered at ${servers.map((s) => s.address).join(' and ')}`);

    const { target } = installGrpcResolver(registry, { grpc });
    console.log(`client dials ${target(service)}`);
    client = new grpc.Client(target(service), grpc.credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    });
    for (let call = 1; call <= 6; call++) {
      console.log(`call ${call}: ${await sayHello(client, `call ${call}`)}`);
    }

    registrations[0]?.unsubscribe();
    await until(1);
    // The resolver hands the new list to the channel from a microtask of its own: let it run.
    await new Promise((resolve) => setImmediate(resolve));
    console.log('greeter-1 deregistered (its server still runs)');
    for (let call = 7; call <= 10; call++) {
      console.log(`call ${call}: ${await sayHello(client, `call ${call}`)}`);
    }

    if (!naming) {
      registrations[0] = registry.register({ service, address: servers[0].address }).subscribe();
      await until(2);
      await throughXds(registry, service);
    }
  } finally {
    client?.close();
    registrations.forEach((registration) => {
      registration.unsubscribe();
    });
    await registry.close();
    servers.forEach(({ server }) => server.forceShutdown());
    await own?.close();
  }
}

/** The same service through gsr's xDS server, as a proxyless gRPC client in any language finds it. */
async function throughXds(registry: Registry, service: string): Promise<void> {
  const xds = await createXdsServer(registry);
  // What a bootstrap file says (GRPC_XDS_BOOTSTRAP names one): where the xDS server is.
  process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
    xds_servers: [
      {
        server_uri: `127.0.0.1:${xds.port}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: 'gsr-demo', locality: {} },
  });
  registerXdsScheme();
  console.log(
    `greeter-1 registered again; an xDS client dials xds:///${service} (gsr xds at 127.0.0.1:${xds.port})`,
  );
  const client = new grpc.Client(`xds:///${service}`, grpc.credentials.createInsecure());
  try {
    for (let call = 11; call <= 14; call++) {
      console.log(`call ${call}: ${await sayHello(client, `call ${call}`)}`);
    }
    const { responses, nacks } = xds.stats();
    console.log(
      `xDS: ${responses} responses (listener, route, cluster, endpoints), ${nacks} rejected`,
    );
  } finally {
    client.close();
    await xds.close();
  }
}

main().catch((error: unknown) => {
  console.error('demo failed:', error);
  process.exitCode = 1;
});
