/* eslint-disable @typescript-eslint/no-require-imports -- winston, and the gRPC path, load only when needed */
import type { Logger } from 'winston';
import type { GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import type { Endpoint } from '../endpoint/Endpoint';
import type { Override } from '../endpoint/Override';
import { isEtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { messageOf } from '../errors/messageOf';
import { EtcdGateway } from '../etcd/gateway/EtcdGateway';
import { PrefixReads, readOnceWith } from '../discovery/PrefixReads';
import { oneOffError } from '../etcd/classifyEtcdError';
import { sortedOverrides } from '../discovery/sortedOverrides';
import { createKeyLayout } from '../keys/createKeyLayout';
import { OnceLog, type WarnLog } from '../logging/OnceLog';
import { warnUnknownVariables } from '../logging/warnUnknownVariables';
import type { CliIo } from './CliIo';

/** How long a gateway that did not answer may have made a command wait before it says so. */
const NOTICEABLE_WAIT_MS = 1000;

/** What a read-only command asks: a registry's one-off reads, whichever way they travel. */
interface OneOffReads {
  readonly listsServices: boolean;
  endpoints(service: string): Promise<readonly Endpoint[]>;
  /** A service's endpoints as their keys say, without reading the overrides. */
  asWritten(service: string): Promise<readonly Endpoint[]>;
  services(): Promise<readonly string[]>;
  overrides(): Promise<readonly Override[]>;
}

/**
 * Runs a read-only command's `read` (`gsr endpoints`, `gsr services`, `gsr overrides`): first through etcd's JSON gateway, which loads no gRPC (so that
 * `gsr endpoints` answers in little more than Node's own start-up), and when the gateway cannot answer —
 * etcd's grpc-proxy, a gateway turned off, etcd not reachable yet — through a registry, which waits for
 * etcd and says what it waits for. Both paths read the same configuration and make lists the same way
 * ({@link PrefixReads}); a refusal (credentials, permissions) or an invalid name is the same error on
 * either, said at once.
 */
export async function readOnce<T>(
  io: CliIo,
  options: GsrOptions,
  service: string | undefined,
  read: (reads: OneOffReads) => Promise<T>,
): Promise<T> {
  const answered = await readThroughGateway(io, options, read);
  if (answered !== undefined) {
    return answered.value;
  }
  // etcd3, gRPC and RxJS load only now.
  const { withRegistry } = require('./withRegistry') as typeof import('./withRegistry');
  return withRegistry(io, options, service, (registry) => read(registry));
}

async function readThroughGateway<T>(
  io: CliIo,
  options: GsrOptions,
  read: (reads: OneOffReads) => Promise<T>,
): Promise<{ readonly value: T } | undefined> {
  const config = loadConfig(options, io.env);
  // Made on first use: a command whose answer needs no log line never loads winston.
  let logger: Logger | undefined;
  const log = (): Logger => {
    if (logger === undefined) {
      const { createLogger } =
        require('../logging/createLogger') as typeof import('../logging/createLogger');
      logger = createLogger(config);
    }
    return logger;
  };
  const warnings: WarnLog = { warn: (message, fields) => log().warn(message, fields) };
  const gateway = new EtcdGateway(config);
  const reads = new PrefixReads(
    createKeyLayout(config),
    new OnceLog(warnings),
    (prefix, operation, createState) =>
      readOnceWith((p) => gateway.range(p), prefix, createState).catch((error: unknown) => {
        throw oneOffError(error, { key: prefix, description: operation }, config.etcdUsername);
      }),
  );
  const oneOff: OneOffReads = {
    listsServices: reads.listsServices,
    endpoints: (service) => reads.endpoints(service),
    asWritten: (service) => reads.asWritten(service),
    services: () => reads.services(),
    overrides: async () => sortedOverrides(await reads.overrides()),
  };
  const started = Date.now();
  try {
    const value = await read(oneOff);
    warnUnknownVariables(warnings, io.env);
    return { value };
  } catch (error) {
    if (!isEtcdUnavailableError(error)) {
      throw error;
    }
    const waited = Date.now() - started;
    const line = `etcd's JSON gateway did not answer (${messageOf(error.cause)}): reading over gRPC`;
    // A miss that cost a noticeable wait (a member that never answers) is said at the default level;
    // a quick one (no gateway there, a refused connection) only at debug: gRPC says the rest.
    if (waited >= NOTICEABLE_WAIT_MS) {
      log().warn(`${line} after ${(waited / 1000).toFixed(1)}s`);
    } else {
      log().debug(line);
    }
    return undefined;
  } finally {
    gateway.close();
  }
}
