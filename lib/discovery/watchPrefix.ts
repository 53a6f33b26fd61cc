import type { IWatchResponse, Watcher } from 'etcd3';
import { Observable } from 'rxjs';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdOperation } from '../etcd/classifyEtcdError';
import { Retrier } from '../etcd/Retrier';
import type { KeyChange, PrefixUpdate } from './PrefixUpdate';

const ignore = (): void => undefined;

/**
 * A cold Observable of everything under `prefix`: first the whole range as of one revision (one range
 * get), then the changes of every watch response from the next revision on, so that nothing between the
 * get and the watch is lost or doubled.
 *
 * It survives what etcd does to it. When the watch breaks (connection lost, member or cluster restarted)
 * it keeps quiet, retries with backoff and jitter, and resumes after the last revision it emitted; when
 * etcd can no longer replay from there (history compacted), it reads the range again and emits a new
 * `reset`. It errors only on what retrying cannot fix (authentication, permission), with a typed error.
 *
 * The revision to resume from is tracked here rather than left to etcd3, which takes it from response
 * headers: while a watch catches up on history, a header carries etcd's current revision, not that of the
 * events, and a break at that moment would skip events.
 *
 * It completes when the registry closes (`context.closing`). Unsubscribing cancels the etcd watcher and
 * any pending retry.
 * @internal
 */
export function watchPrefix(prefix: string, context: EtcdContext): Observable<PrefixUpdate> {
  const { client, logger } = context;
  const operation: EtcdOperation = { key: prefix, description: `watch ${prefix}` };

  return new Observable<PrefixUpdate>((subscriber) => {
    if (context.closing.aborted) {
      subscriber.error(new RegistryClosedError(operation.description));
      return;
    }
    /** Emitted up to here; `undefined` until a range has been read, or when it must be read again. */
    let revision: bigint | undefined;
    let watcher: Watcher | undefined;
    const retrier = new Retrier(context, operation);
    let stopped = false;
    /** Changes of responses received in this macrotask, emitted together from a microtask. */
    let pending: KeyChange[] = [];
    let flushScheduled = false;

    const flush = (): void => {
      flushScheduled = false;
      if (pending.length > 0 && !subscriber.closed && revision !== undefined) {
        const changes = pending;
        pending = [];
        subscriber.next({ kind: 'changes', revision, changes });
      }
    };

    const dropWatcher = (cancel: boolean): void => {
      const dropped = watcher;
      watcher = undefined;
      if (dropped !== undefined) {
        dropped.removeAllListeners();
        // etcd3 may still emit on a watcher it is tearing down; an unheard 'error' would throw.
        dropped.on('error', ignore);
        if (cancel) {
          dropped.cancel().catch(ignore);
        }
      }
    };

    const retryLater = (error: unknown, cancelWatcher: boolean): void => {
      dropWatcher(cancelWatcher);
      const fatal = retrier.failed(error, () => void run());
      if (fatal !== undefined) {
        subscriber.error(fatal);
      }
    };

    const resumed = (response: IWatchResponse): void => {
      if (revision !== undefined && BigInt(response.header.revision) < revision) {
        // etcd is behind what this stream already saw: its data was replaced or restored from a
        // backup. A watch from our revision would wait silently for a "future"; only a fresh read is
        // correct.
        logger.info(`etcd's revision went back under the watch on ${prefix}; reading it again`, {
          revision,
          etcdRevision: response.header.revision,
        });
        revision = undefined;
        dropWatcher(true);
        void run();
        return;
      }
      retrier.succeeded();
    };

    const onData = (response: IWatchResponse): void => {
      if (response.events.length === 0) {
        // A progress notification: etcd only sends one to a watcher that has seen everything up to the
        // header's revision, so resuming from there is safe and may avoid a compacted revision.
        const progress = BigInt(response.header.revision);
        if (revision !== undefined && progress > revision) {
          revision = progress;
        }
        return;
      }
      let last: bigint | undefined;
      for (const event of response.events) {
        const eventRevision = BigInt(event.kv.mod_revision);
        if (revision !== undefined && eventRevision <= revision) {
          continue; // Already emitted, should etcd ever replay it.
        }
        pending.push({
          type: event.type === 'Put' ? 'put' : 'delete',
          key: event.kv.key,
          value: event.kv.value,
        });
        last = eventRevision;
      }
      if (last !== undefined) {
        revision = last;
        // Responses that arrive together (one socket read decodes many under load) become one update:
        // one list per batch instead of one per response, and still only whole responses.
        if (!flushScheduled) {
          flushScheduled = true;
          queueMicrotask(flush);
        }
      }
    };

    const run = async (): Promise<void> => {
      try {
        if (revision === undefined) {
          const range = await client.getAll().prefix(prefix).exec();
          if (stopped) {
            return;
          }
          pending = []; // Superseded by the range.
          revision = BigInt(range.header.revision);
          subscriber.next({
            kind: 'reset',
            revision,
            entries: range.kvs,
          });
          if (subscriber.closed) {
            return; // The subscriber left while handling the snapshot.
          }
        }
        const created = client
          .watch()
          .prefix(prefix)
          .startRevision(String(revision + 1n))
          .watcher();
        watcher = created;
        created.on('connected', resumed);
        created.on('data', onData);
        // etcd3 re-attaches a disconnected watcher by itself, from a revision it tracks less carefully
        // (see above): drop it and start a new one from ours.
        created.on('disconnected', (error) => retryLater(error, true));
        created.on('error', (error) => {
          // etcd cancelled the watch; the likeliest cause is a compacted start revision, after which only
          // a fresh read is correct. etcd3 has already forgotten the watcher: nothing to cancel.
          logger.debug(`etcd cancelled the watch on ${prefix}; reading it again`, {
            cause: error,
            revision,
          });
          revision = undefined;
          retryLater(error, false);
        });
      } catch (error) {
        if (!stopped) {
          retryLater(error, true);
        }
      }
    };

    // The registry's close completes the stream (and the teardown below releases the watch).
    const complete = (): void => subscriber.complete();
    context.closing.addEventListener('abort', complete, { once: true });
    void run();
    return () => {
      context.closing.removeEventListener('abort', complete);
      stopped = true;
      retrier.cancel();
      dropWatcher(true);
    };
  });
}
