// A proxyless gRPC client in a process of its own, as a real one runs: @grpc/grpc-js with the
// @grpc/grpc-js-xds plugin, bootstrapped from GRPC_XDS_BOOTSTRAP_CONFIG (gsr's xDS server). For each
// service named in its arguments it dials xds:///<service> and calls WhoAmI (spec/support/whoAmIServer.ts)
// every 20 ms, printing one line per call: `<epoch ms> <service> ok <server name>` or
// `<epoch ms> <service> error <code>`. It runs until killed.
const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();

const toJson = (value) => Buffer.from(JSON.stringify(value));
const fromJson = (buffer) => JSON.parse(buffer.toString());

for (const service of process.argv.slice(2)) {
  const client = new grpc.Client(`xds:///${service}`, grpc.credentials.createInsecure());
  const call = () =>
    client.makeUnaryRequest(
      '/gsr.test.Echo/WhoAmI',
      toJson,
      fromJson,
      {},
      new grpc.Metadata(),
      // Generous: a call that fails says the route was wrong, not that the machine was busy.
      { deadline: Date.now() + 10_000 },
      (error, response) => {
        const outcome = error ? `error ${error.code}` : `ok ${response.name}`;
        process.stdout.write(`${Date.now()} ${service} ${outcome}\n`);
        setTimeout(call, 20);
      },
    );
  call();
}
