/* eslint-disable @typescript-eslint/no-require-imports -- each command's code loads when it runs */
import { Command, CommanderError } from 'commander';
import { configSchema } from '../config/configSchema';
import { messageOf } from '../errors/messageOf';
import { maskCredentials } from '../text/maskCredentials';
import type { CliIo } from './CliIo';
import { cliOptions, CLI_CONNECT_TIMEOUT_SECONDS, type GlobalFlags } from './cliOptions';
import { exitCodeFor } from './exitCodeFor';
import type { ServeCliOptions } from './serveOverHttp';

const ENVIRONMENT_HELP = `
Configuration (environment; the flags above win):
${Object.values(configSchema)
  .map(
    (field) =>
      `  ${field.env.padEnd(34)} ${field.doc} (default: ${field.shownDefault ?? String(field.default ?? 'none')})`,
  )
  .join('\n')}

Commands give up connecting after ${CLI_CONNECT_TIMEOUT_SECONDS}s unless --connect-timeout or
GSR_ETCD_CONNECT_TIMEOUT_SECONDS says otherwise.

Exit codes: 0 success, 1 etcd unreachable or refusing, 2 bad arguments or configuration.`;

/**
 * Runs the `gsr` command line with `argv` (without `node` and the script) and resolves with its exit
 * code. Nothing here touches `process`: `main.ts` wires it to the real one. Each command's code (and
 * etcd3, gRPC and RxJS with it) is loaded only when that command runs.
 */
export async function runCli(argv: readonly string[], io: CliIo, version: string): Promise<number> {
  const program = new Command('gsr')
    .description('Inspect the gsr service registry in etcd, and register endpoints in it.')
    .version(version)
    .option('--endpoints <urls>', 'etcd endpoints, comma-separated (GSR_ETCD_ENDPOINTS)')
    .option('--user <name>', 'etcd user (GSR_ETCD_USERNAME)')
    .option(
      '--password-file <path>',
      "a file holding the etcd user's password (GSR_ETCD_PASSWORD); never a password in a flag",
    )
    .option(
      '--connect-timeout <seconds>',
      `how long to try to reach etcd (default ${CLI_CONNECT_TIMEOUT_SECONDS})`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander echoes what it refused: a password passed as a flag is not printed back.
      writeErr: (text) => io.stderr.write(maskCredentials(text)),
    })
    .showHelpAfterError('(gsr --help shows the usage)')
    .addHelpText('after', ENVIRONMENT_HELP);
  const options = () => cliOptions(program.opts<GlobalFlags>(), io.env);

  program
    .command('config')
    .description(
      'print the effective configuration and where each value came from (password masked)',
    )
    .option('--json', 'print the settings as a JSON array')
    .action((flags: { json?: boolean }) =>
      (require('./commands/showConfig') as typeof import('./commands/showConfig')).showConfig(
        io,
        options(),
        flags,
        program.opts<GlobalFlags>(),
      ),
    );
  program
    .command('services')
    .description('list the services that have at least one endpoint, one per line')
    .action(() =>
      (require('./commands/listServices') as typeof import('./commands/listServices')).listServices(
        io,
        options(),
      ),
    );
  program
    .command('endpoints')
    .description("list a service's endpoints, one address per line")
    .argument('<service>', 'the service, e.g. data-access')
    .option('--json', 'print the endpoint objects as a JSON array')
    .action((service: string, flags: { json?: boolean }) =>
      (
        require('./commands/listEndpoints') as typeof import('./commands/listEndpoints')
      ).listEndpoints(io, options(), service, flags),
    );
  program
    .command('watch')
    .description("print a service's endpoints each time they change, until interrupted")
    .argument('<service>', 'the service, e.g. data-access')
    .option('--json', 'print one JSON object per line')
    .action((service: string, flags: { json?: boolean }) =>
      (
        require('./commands/watchEndpoints') as typeof import('./commands/watchEndpoints')
      ).watchEndpoints(io, options(), service, flags),
    );
  program
    .command('register')
    .description(
      'register an endpoint until interrupted, then deregister it (SIGTERM drains it first)',
    )
    .argument('<service>', 'the service, e.g. data-access')
    .argument('<address>', 'where it listens, host:port, e.g. 10.0.0.7:10000')
    .option('--metadata <json>', 'JSON object stored with the endpoint')
    .action((service: string, address: string, flags: { metadata?: string }) =>
      (
        require('./commands/registerEndpoint') as typeof import('./commands/registerEndpoint')
      ).registerEndpoint(io, options(), service, address, flags),
    );
  program
    .command('unregister')
    .description("delete an endpoint's key (one a killed process left until its lease expires)")
    .argument('<service>', 'the service, e.g. data-access')
    .argument('<address>', 'its address, host:port')
    .action((service: string, address: string) =>
      (
        require('./commands/unregisterEndpoint') as typeof import('./commands/unregisterEndpoint')
      ).unregisterEndpoint(io, options(), service, address),
    );
  program
    .command('drain')
    .description(
      'take an endpoint out of rotation as an operator (maintenance), until gsr undrain; its own ' +
        're-registrations never undo it',
    )
    .argument('<service>', 'the service, e.g. data-access')
    .argument('<address>', 'its address, host:port')
    .option('--reason <text>', 'why, shown with it (one line, at most 200 characters)')
    .option('--force', 'also when the service lists no endpoint at that address now')
    .action((service: string, address: string, flags: { reason?: string; force?: boolean }) =>
      (
        require('./commands/drainEndpoint') as typeof import('./commands/drainEndpoint')
      ).drainEndpoint(io, options(), service, address, flags),
    );
  program
    .command('undrain')
    .description("end an endpoint's maintenance: it takes calls again")
    .argument('<service>', 'the service, e.g. data-access')
    .argument('<address>', 'its address, host:port')
    .action((service: string, address: string) =>
      (
        require('./commands/undrainEndpoint') as typeof import('./commands/undrainEndpoint')
      ).undrainEndpoint(io, options(), service, address),
    );
  program
    .command('overrides')
    .description('list the endpoints operators put in maintenance, with reason and age')
    .option('--json', 'print them as a JSON array')
    .action((flags: { json?: boolean }) =>
      (
        require('./commands/listOverrides') as typeof import('./commands/listOverrides')
      ).listOverrides(io, options(), flags),
    );
  program
    .command('snapshot')
    .description("write snapshots of every service's list, for hosts that start while etcd is down")
    .command('save')
    .description(
      "read every service's list and operators' overrides from etcd and write them to <dir> as " +
        'snapshots (ship it to hosts as their GSR_SNAPSHOT_DIR)',
    )
    .argument('<dir>', 'the directory to write to (made, mode 0700, if missing)')
    .action((dir: string) =>
      (require('./commands/saveSnapshot') as typeof import('./commands/saveSnapshot')).saveSnapshot(
        io,
        options(),
        dir,
      ),
    );
  serving(
    program
      .command('ui')
      .description(
        'serve a live dashboard of the registry in the browser (read-only), until interrupted',
      ),
    '7700',
    'show these services only',
  ).action((flags: ServeCliOptions) =>
    (
      require('./commands/serveDashboard') as typeof import('./commands/serveDashboard')
    ).serveDashboard(io, options(), flags),
  );
  serving(
    program
      .command('http-sd')
      .description(
        "serve Prometheus' HTTP service discovery (http_sd_configs) of the registry, until interrupted",
      ),
    '7701',
    'serve these services only',
  ).action((flags: ServeCliOptions) =>
    (require('./commands/serveHttpSd') as typeof import('./commands/serveHttpSd')).serveHttpSd(
      io,
      options(),
      flags,
    ),
  );
  serving(
    program
      .command('xds')
      .description(
        'serve the registry to xDS clients (proxyless gRPC on xds:///<service>, Envoy), until interrupted',
      ),
    '18000',
    'serve these services only',
  ).action((flags: ServeCliOptions) =>
    (require('./commands/serveXds') as typeof import('./commands/serveXds')).serveXds(
      io,
      options(),
      flags,
    ),
  );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the problem (or the help, or the version).
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`gsr: ${maskCredentials(messageOf(error))}\n`);
    return exitCodeFor(error);
  }
}

/** The options every command that serves the registry takes: where to listen, what to answer. */
function serving(command: Command, port: string, services: string): Command {
  return command
    .option('--port <port>', 'the port to listen on (0: any free port)', port)
    .option('--host <host>', 'the address to listen on; not loopback exposes it', '127.0.0.1')
    .option(
      '--allow-host <name...>',
      'host names it answers to besides loopback and the address it listens on (a proxy, a DNS name)',
    )
    .option('--service <name...>', `${services} (required with GSR_KEY_LAYOUT=etcd-naming)`);
}
