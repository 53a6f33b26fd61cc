import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type * as https from 'node:https';
import type { GsrConfig } from '../../config/GsrConfig';
import { messageOf } from '../../errors/messageOf';
import { EtcdFailure, type EtcdFailureKind } from '../EtcdFailure';
import type {
  EtcdEntry,
  EtcdKV,
  EtcdPosition,
  PrefixDelta,
  PutAnswer,
  PutOp,
  RangeResult,
} from '../EtcdPort';
import { prefixRange } from '../prefixRange';
import { readTlsFiles } from '../readTlsFiles';
import { type FlatTxn, guardedDelete, guardedPutAll } from '../guardedWrites';

/** An answer of the gateway, as bytes, with its HTTP status. */
interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/**
 * What etcd's refusals say, as the kinds of {@link EtcdFailure}: the gateway answers with etcd's gRPC
 * status (`code`) and message, the same messages etcd3 turns into its error classes.
 */
const REFUSALS: readonly (readonly [string, EtcdFailureKind])[] = [
  ['etcdserver: invalid auth token', 'auth-expired'],
  ['etcdserver: user name is empty', 'unauthenticated'],
  ['etcdserver: user name not found', 'unauthenticated'],
  ['etcdserver: authentication failed', 'unauthenticated'],
  ['etcdserver: permission denied', 'permission-denied'],
  ['etcdserver: role is not granted to the user', 'permission-denied'],
];
/** google.rpc.Code values the gateway puts in `code`. */
const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const UNAUTHENTICATED = 16;

/**
 * A reader of etcd through its JSON gateway (`POST /v3/kv/range` over HTTP/1.1, which etcd serves on
 * its client URLs beside gRPC unless started with `--enable-grpc-gateway=false`): for a command that
 * reads once, it answers without loading gRPC, etcd3 and their protocol files, which cost a command
 * line several times Node's own start. It is {@link EtcdPort}'s key-value part ({@link EtcdKV}), the
 * same requests as the gRPC adapter's, held to it by one contract spec; watches and leases stay gRPC's.
 *
 * It honours the same configuration as the gRPC client: every endpoint in turn, TLS (the same files),
 * authentication (a token from `/v3/auth/authenticate`), each request within the dial and request
 * timeouts together, whichever members it tries. A range is linearizable, as over gRPC. It does not
 * retry: a failure rejects with an {@link EtcdFailure}, for its caller to take the gRPC path, which
 * waits for etcd and says so.
 * @internal
 */
export class EtcdGateway implements EtcdKV {
  readonly #members: readonly URL[];
  readonly #timeoutMs: number;
  readonly #config: GsrConfig;
  #http: HttpAgent | undefined;
  /** node:https and its agent, loaded only for `https://` members (TLS costs a command line ~10 ms). */
  readonly #https: { readonly client: typeof https; readonly agent: https.Agent } | undefined;
  #token: Promise<string | undefined> | undefined;
  /** The member that answered last: asked first next time. */
  #member = 0;

  /** Reads the TLS files at once (a `ConfigError` when one cannot be read); connects to nothing. */
  constructor(config: GsrConfig) {
    this.#config = config;
    this.#members = config.etcdEndpoints.map((url) => new URL(url));
    this.#timeoutMs = (config.dialTimeoutSeconds + config.requestTimeoutSeconds) * 1000;
    if (this.#members.some((member) => member.protocol === 'https:')) {
      const tls = readTlsFiles(config);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const client = require('node:https') as typeof https;
      this.#https = { client, agent: new client.Agent({ keepAlive: true, ...tls }) };
    }
  }

  /** Everything under `prefix`, sorted by key bytes, and the revision etcd read it at. */
  async range(prefix: string): Promise<RangeResult> {
    const { header, kvs } = (await this.#kv('range', rangeOf(prefix))) as {
      header?: unknown;
      kvs?: unknown;
    };
    const broken = 'a range without its revision or keys';
    if (kvs !== undefined && !Array.isArray(kvs)) {
      throw malformed(broken);
    }
    return { ...positionOf(header, broken), entries: ((kvs ?? []) as unknown[]).map(entryOf) };
  }

  async revision(key: string): Promise<EtcdPosition> {
    // etcd takes an empty key for "no key given": `\0` is the first key there is.
    const bytes = key === '' ? Buffer.from([0]) : Buffer.from(key);
    const { header } = (await this.#kv('range', {
      key: bytes.toString('base64'),
      keys_only: true,
    })) as { header?: unknown };
    return positionOf(header);
  }

  async delta(prefix: string, revision: bigint): Promise<PrefixDelta> {
    const range = rangeOf(prefix);
    const { header, responses } = (await this.#kv('txn', {
      success: [
        { request_range: { ...range, count_only: true } },
        { request_range: { ...range, keys_only: true, min_mod_revision: String(revision + 1n) } },
      ],
    })) as { header?: unknown; responses?: unknown };
    const [all, changed] = (Array.isArray(responses) ? responses : []).map(
      (response: { response_range?: { count?: unknown; kvs?: unknown } } | null) =>
        response?.response_range,
    );
    const count = decimal(all?.count ?? '0');
    if (count === undefined || (changed?.kvs !== undefined && !Array.isArray(changed.kvs))) {
      throw malformed('a count that is not one');
    }
    return {
      ...positionOf(header),
      count: Number(count),
      changed: Array.isArray(changed?.kvs) ? changed.kvs.length : 0,
    };
  }

  async probe(
    prefix: string,
    options: { readonly serializable: boolean; readonly deadline?: number },
  ): Promise<void> {
    await this.#kv(
      'range',
      { ...rangeOf(prefix), limit: 1, keys_only: true, serializable: options.serializable },
      options.deadline,
    );
  }

  putAll(puts: readonly PutOp[]): Promise<PutAnswer> {
    return guardedPutAll(this.#flat, puts);
  }

  deleteKey(
    key: string,
    ifLease?: readonly string[],
  ): Promise<{ readonly deleted: boolean; readonly revision: bigint }> {
    return guardedDelete(this.#flat, key, ifLease);
  }

  /** One transaction, never nested, as the gRPC adapter makes it. */
  readonly #flat: FlatTxn = async (ifLease, writes) => {
    const answer = (await this.#kv('txn', {
      compare: ifLease.map(({ key, lease }) => ({
        key: base64(key),
        target: 'LEASE',
        result: 'EQUAL',
        lease,
      })),
      success: writes.map((write) =>
        'put' in write
          ? {
              request_put: {
                key: base64(write.put.key),
                value: base64(write.put.value),
                lease: write.put.lease,
              },
            }
          : { request_delete_range: { key: base64(write.delete) } },
      ),
      failure: ifLease.map(({ key }) => ({ request_range: { key: base64(key), keys_only: true } })),
    })) as TxnAnswer;
    const responses = responsesOf(answer);
    const succeeded = answer.succeeded === true;
    const leases = new Map<string, string>();
    if (!succeeded) {
      ifLease.forEach(({ key }, i) => leases.set(key, leaseRead(responses[i]?.response_range)));
    }
    const deleted = responses.reduce(
      (sum, response) =>
        sum + Number(decimal(response?.response_delete_range?.deleted ?? '0') ?? 0n),
      0,
    );
    return { succeeded, revision: positionOf(answer.header).revision, deleted, leases };
  };

  /** A request of etcd's KV service (`/v3/kv/<method>`), as the configured user. */
  async #kv(method: string, body: object, deadline?: number): Promise<object> {
    return this.#call(`/v3/kv/${method}`, body, await this.#authenticated(), deadline);
  }

  /** Closes its connections: nothing of it keeps the process alive afterwards. */
  close(): void {
    this.#http?.destroy();
    this.#https?.agent.destroy();
  }

  /** The token of the configured user (`undefined`: no authentication), asked for once. */
  #authenticated(): Promise<string | undefined> {
    const { etcdUsername: name, etcdPassword: password } = this.#config;
    this.#token ??=
      name === undefined
        ? Promise.resolve(undefined)
        : this.#call('/v3/auth/authenticate', { name, password: password ?? '' }, undefined).then(
            (answer) => {
              const { token } = answer as { token?: unknown };
              if (typeof token !== 'string' || token === '') {
                throw malformed('an authentication without a token');
              }
              return token;
            },
          );
    return this.#token;
  }

  /** POSTs `body` to each member in turn, from the last that answered, until one answers. */
  async #call(
    path: string,
    body: object,
    token: string | undefined,
    deadline?: number,
  ): Promise<object> {
    const json = JSON.stringify(body);
    // One deadline for the call, whichever members it tries: a caller falls back to gRPC in time.
    const timeoutMs = deadline === undefined ? this.#timeoutMs : Math.max(0, deadline - Date.now());
    const signal = AbortSignal.timeout(timeoutMs);
    let failure: unknown;
    for (let tried = 0; tried < this.#members.length; tried++) {
      const index = (this.#member + tried) % this.#members.length;
      const member = this.#members[index] as URL;
      let answer: HttpAnswer;
      try {
        answer = await this.#post(member, path, json, token, signal);
      } catch (error) {
        failure = error;
        continue;
      }
      this.#member = index;
      return answerOf(member, answer);
    }
    const message = signal.aborted
      ? `no etcd endpoint answered within ${timeoutMs / 1000}s` +
        (deadline === undefined ? ' (the dial and request timeouts)' : '')
      : `no etcd endpoint answered: ${messageOf(failure)}`;
    throw new EtcdFailure('unavailable', message, { cause: failure });
  }

  #post(
    member: URL,
    path: string,
    body: string,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    const secure = member.protocol === 'https:' ? this.#https : undefined;
    const agent = secure?.agent ?? (this.#http ??= new HttpAgent({ keepAlive: true }));
    return new Promise((resolve, reject) => {
      const request = (secure?.client.request ?? httpRequest)(
        new URL(path, member),
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            ...(token !== undefined && { authorization: token }),
          },
          signal,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** The JSON object of a 200 answer; etcd's refusal, or anything else, as an {@link EtcdFailure}. */
function answerOf(member: URL, { status, body }: HttpAnswer): object {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (status === 200) {
    // A body too large for one string (V8's limit, ~512 MiB) is no JSON here either.
    if (typeof json !== 'object' || json === null) {
      throw malformed('a body that is not a JSON object');
    }
    return json;
  }
  if (typeof json !== 'object' || json === null) {
    // A grpc-proxy, a gateway turned off, or not etcd at all.
    throw new EtcdFailure(
      'unavailable',
      `${member.origin} serves no etcd JSON gateway (HTTP ${status})`,
    );
  }
  const { code, message } = json as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : `HTTP ${status}`;
  throw new EtcdFailure(refusalKind(code, text), text);
}

function refusalKind(code: unknown, message: string): EtcdFailureKind {
  const known = REFUSALS.find(([start]) => message.startsWith(start));
  if (known !== undefined) {
    return known[1];
  }
  switch (code) {
    case UNAUTHENTICATED:
      return 'unauthenticated';
    case PERMISSION_DENIED:
      return 'permission-denied';
    case INVALID_ARGUMENT:
      return 'invalid';
    default:
      // No leader, timed out, too many requests: nothing said for good.
      return 'unavailable';
  }
}

/** One key of a range answer; etcd's JSON leaves out empty fields (an empty value, no lease). */
function entryOf(raw: unknown): EtcdEntry {
  const kv = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const modRevision = decimal(kv.mod_revision);
  const version = decimal(kv.version ?? '0');
  const lease = kv.lease ?? '0';
  if (
    typeof kv.key !== 'string' ||
    (kv.value !== undefined && typeof kv.value !== 'string') ||
    modRevision === undefined ||
    version === undefined ||
    typeof lease !== 'string' ||
    decimal(lease) === undefined
  ) {
    throw malformed('a key without its name, value or revisions');
  }
  return {
    key: Buffer.from(kv.key, 'base64'),
    value: Buffer.from(kv.value ?? '', 'base64'),
    modRevision,
    version: Number(version),
    lease,
  };
}

/** An int64 as etcd's JSON writes it (a decimal string), or `undefined`. */
function decimal(value: unknown): bigint | undefined {
  return typeof value === 'string' && /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
}

function malformed(what: string): EtcdFailure {
  return new EtcdFailure('unavailable', `etcd's JSON gateway answered ${what}`);
}

/** A transaction's answer, as etcd's JSON has it (fields left out when empty or false). */
interface TxnAnswer {
  readonly header?: unknown;
  readonly succeeded?: boolean;
  readonly responses?: readonly ({
    readonly response_delete_range?: { readonly deleted?: unknown };
    readonly response_range?: { readonly kvs?: unknown };
    readonly response_txn?: TxnAnswer;
  } | null)[];
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** `prefix`'s range, as the gateway takes it. */
function rangeOf(prefix: string): { readonly key: string; readonly range_end: string } {
  const { key, range_end } = prefixRange(prefix);
  return { key: key.toString('base64'), range_end: range_end.toString('base64') };
}

/** The revision and cluster of an answer's header; one without a revision is malformed. */
function positionOf(header: unknown, broken = 'an answer without its revision'): EtcdPosition {
  const { revision: written, cluster_id } = (header ?? {}) as {
    revision?: unknown;
    cluster_id?: unknown;
  };
  const revision = decimal(written);
  if (revision === undefined) {
    throw malformed(broken);
  }
  return { revision, cluster: decimal(cluster_id)?.toString() ?? '0' };
}

function responsesOf(answer: TxnAnswer | undefined): NonNullable<TxnAnswer['responses']> {
  const responses: unknown = answer?.responses;
  return Array.isArray(responses) ? (responses as NonNullable<TxnAnswer['responses']>) : [];
}

/** The lease a key read in a failed transaction is bound to; an answer that says none is malformed. */
function leaseRead(range: { readonly kvs?: unknown } | undefined): string {
  const kvs = range?.kvs ?? [];
  const [kv] = Array.isArray(kvs) ? (kvs as ({ lease?: unknown } | null)[]) : [];
  const lease = kv?.lease ?? '0';
  if (
    range === undefined ||
    !Array.isArray(kvs) ||
    typeof lease !== 'string' ||
    decimal(lease) === undefined
  ) {
    throw malformed('a failed transaction without the lease of a key it compared');
  }
  return lease;
}
