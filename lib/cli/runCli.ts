import { Command, CommanderError } from 'commander';
import { configSchema } from '../config/configSchema';
import { messageOf } from '../errors/messageOf';
import { maskCredentials } from '../text/maskCredentials';
import type { CliIo } from './CliIo';
import { listEndpoints } from './commands/listEndpoints';
import { listServices } from './commands/listServices';
import { registerEndpoint } from './commands/registerEndpoint';
import { type DashboardCliOptions, serveDashboard } from './commands/serveDashboard';
import { showConfig } from './commands/showConfig';
import { watchEndpoints } from './commands/watchEndpoints';
import { exitCodeFor } from './exitCodeFor';

const ENVIRONMENT_HELP = `
Configuration (environment):
${Object.values(configSchema)
  .map(
    (field) =>
      `  ${field.env.padEnd(34)} ${field.doc} (default: ${String(field.default ?? 'none')})`,
  )
  .join('\n')}

Exit codes: 0 success, 1 etcd unreachable or refusing, 2 bad arguments or configuration.`;

/**
 * Runs the `gsr` command line with `argv` (without `node` and the script) and resolves with its exit
 * code. Nothing here touches `process`: `main.ts` wires it to the real one.
 */
export async function runCli(argv: readonly string[], io: CliIo, version: string): Promise<number> {
  const program = new Command('gsr')
    .description('Inspect the gsr service registry in etcd, and register endpoints in it.')
    .version(version)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Commander echoes what it refused: a password passed as a flag is not printed back.
      writeErr: (text) => io.stderr.write(maskCredentials(text)),
    })
    .showHelpAfterError('(gsr --help shows the usage)')
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('config')
    .description(
      'print the effective configuration and where each value came from (password masked)',
    )
    .option('--json', 'print the settings as a JSON array')
    .action((options: { json?: boolean }) => showConfig(io, options));
  program
    .command('services')
    .description('list the services that have at least one endpoint, one per line')
    .action(() => listServices(io));
  program
    .command('endpoints')
    .description("list a service's endpoints, one address per line")
    .argument('<service>', 'the service, e.g. data-access')
    .option('--json', 'print the endpoint objects as a JSON array')
    .action((service: string, options: { json?: boolean }) => listEndpoints(io, service, options));
  program
    .command('watch')
    .description("print a service's endpoints each time they change, until interrupted")
    .argument('<service>', 'the service, e.g. data-access')
    .option('--json', 'print one JSON object per line')
    .action((service: string, options: { json?: boolean }) => watchEndpoints(io, service, options));
  program
    .command('register')
    .description('register an endpoint until interrupted (SIGINT, SIGTERM), then deregister it')
    .argument('<service>', 'the service, e.g. data-access')
    .argument('<address>', 'where it listens, e.g. 10.0.0.7:10000')
    .option('--metadata <json>', 'JSON object stored with the endpoint')
    .action((service: string, address: string, options: { metadata?: string }) =>
      registerEndpoint(io, service, address, options),
    );

  program
    .command('ui')
    .description(
      'serve a live dashboard of the registry in the browser (read-only), until interrupted',
    )
    .option('--port <port>', 'the port to listen on (0: any free port)', '7700')
    .option('--host <host>', 'the address to listen on; not loopback exposes it', '127.0.0.1')
    .option(
      '--allow-host <name...>',
      'host names it answers to besides loopback and the address it listens on (a proxy, a DNS name)',
    )
    .option(
      '--service <name...>',
      'show these services only (required with GSR_KEY_LAYOUT=etcd-naming)',
    )
    .action((options: DashboardCliOptions) => serveDashboard(io, options));

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
