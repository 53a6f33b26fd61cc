import type { EtcdChange, EtcdPort, EtcdPosition, PutOp, WatchEnd } from '../../lib/etcd/EtcdPort';
import { EtcdFailure, isLeaseNotFound } from '../../lib/etcd/EtcdFailure';

/** What a contract run needs of the etcd behind a port. */
export interface PortUnderTest {
  readonly port: EtcdPort;
  /** A key prefix of this run's own. */
  readonly prefix: string;
  /** Waits until `check` holds (real time for a real etcd, virtual time for a simulated one). */
  readonly until: (check: () => boolean, what: string) => Promise<void>;
  /** Awaits `promise`, letting the etcd behind it run. */
  readonly settle: <T>(promise: Promise<T>) => Promise<T>;
  /** Compacts etcd's history up to `revision`. */
  readonly compact: (revision: bigint) => Promise<void>;
  /** The time by etcd's clock, ms (real or virtual). */
  readonly now: () => number;
  /** Stops etcd (every member), runs `whileDown`, and starts it again: a new leader is elected. */
  readonly restart: (whileDown: () => Promise<void>) => Promise<void>;
  /**
   * Holds every answer to the port up until well after its timeout (etcd applied the request; its
   * caller gave up), until called with `false`.
   */
  readonly holdAnswers: (held: boolean) => void;
  readonly close: () => Promise<void>;
}

/** Everything a watch told its listener, in order. */
function listen() {
  const heard: (
    | { readonly created: EtcdPosition }
    | { readonly changes: readonly EtcdChange[] }
    | { readonly progress: bigint }
    | { readonly ended: WatchEnd }
  )[] = [];
  return {
    heard,
    listener: {
      created: (position: EtcdPosition) => heard.push({ created: position }),
      changes: (changes: readonly EtcdChange[]) => heard.push({ changes }),
      progress: (revision: bigint) => heard.push({ progress: revision }),
      ended: (reason: WatchEnd) => heard.push({ ended: reason }),
    },
    changes: () => heard.flatMap((item) => ('changes' in item ? [item.changes] : [])),
  };
}

/**
 * The behaviour of an {@link EtcdPort} that gsr's core relies on, as tests: run against the etcd3 adapter
 * on a real etcd and against the simulated etcd, so that the simulation is held to what etcd does.
 */
export function describePortContract(name: string, setUp: () => Promise<PortUnderTest>): void {
  describe(`the etcd port: ${name}`, () => {
    let t: PortUnderTest;
    beforeEach(async () => {
      t = await setUp();
    });
    afterEach(async () => {
      await t.close();
    });
    const key = (rest: string) => `${t.prefix}${rest}`;
    /** Waits `ms` by etcd's clock. */
    const pass = async (ms: number, what: string): Promise<void> => {
      const at = t.now() + ms;
      await t.until(() => t.now() >= at, what);
    };
    /** Asks until etcd answers (a client reconnects after a restart). */
    const answered = async <T>(ask: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await t.settle(ask());
        } catch (error) {
          if (attempt === 100) {
            throw error;
          }
          await pass(200, 'a moment before asking again');
        }
      }
    };
    /** Puts in one transaction; resolves with the revision they were written at. */
    const put = async (puts: readonly PutOp[]): Promise<bigint> =>
      (await t.settle(t.port.putAll(puts))).revision;

    it('puts a transaction at one revision, and ranges a prefix sorted by key, with revisions and leases', async () => {
      const lease = await t.settle(t.port.grantLease(30));
      const revision = await put([
        { key: key('b'), value: '2', lease },
        { key: key('a'), value: '1', lease: '0' },
      ]);
      await put([{ key: key('a'), value: '1b', lease: '0' }]);
      const range = await t.settle(t.port.range(t.prefix));
      expect(range.revision).toBe(revision + 1n);
      expect(
        range.entries.map((e) => [e.key.toString(), e.value.toString(), e.version, e.lease]),
      ).toEqual([
        [key('a'), '1b', 2, '0'],
        [key('b'), '2', 1, lease],
      ]);
      expect(range.entries.map((e) => e.modRevision)).toEqual([revision + 1n, revision]);
      expect(await t.settle(t.port.revision(key('nothing')))).toEqual({
        revision: range.revision,
        cluster: range.cluster,
      });
    });

    it('names the same cluster in every answer: ranges, revisions, deltas and watches', async () => {
      const range = await t.settle(t.port.range(t.prefix));
      expect(range.cluster).toMatch(/^[1-9]\d*$/);
      const { heard, listener } = listen();
      const watch = t.port.watch(key('id/'), range.revision + 1n, listener);
      await t.until(() => heard.length === 1, 'created');
      expect(heard[0]).toEqual({ created: { revision: range.revision, cluster: range.cluster } });
      expect((await t.settle(t.port.revision(key('x')))).cluster).toBe(range.cluster);
      expect((await t.settle(t.port.delta(t.prefix, range.revision))).cluster).toBe(range.cluster);
      watch.cancel();
    });

    it('deletes a key only while it is bound to one of the leases asked for', async () => {
      const ours = await t.settle(t.port.grantLease(30));
      const theirs = await t.settle(t.port.grantLease(30));
      await put([
        { key: key('mine'), value: '', lease: ours },
        { key: key('bare'), value: '', lease: '0' },
        { key: key('other'), value: '', lease: theirs },
      ]);
      const asked = [ours, '0'];
      expect((await t.settle(t.port.deleteKey(key('mine'), asked))).deleted).toBe(true);
      expect((await t.settle(t.port.deleteKey(key('bare'), asked))).deleted).toBe(true);
      expect((await t.settle(t.port.deleteKey(key('other'), asked))).deleted).toBe(false);
      expect((await t.settle(t.port.deleteKey(key('absent')))).deleted).toBe(false);
      expect((await t.settle(t.port.range(t.prefix))).entries.map((e) => e.key.toString())).toEqual(
        [key('other')],
      );
    });

    it('puts a key guarded by leases only while it is absent or bound to one of them, and names who holds it', async () => {
      const ours = await t.settle(t.port.grantLease(30));
      const theirs = await t.settle(t.port.grantLease(30));
      await put([
        { key: key('g/bare'), value: 'b', lease: '0' },
        { key: key('g/theirs'), value: 't', lease: theirs },
        { key: key('g/mine'), value: 'm', lease: ours },
      ]);
      const guard = [ours, '0'];
      const answer = await t.settle(
        t.port.putAll([
          { key: key('g/absent'), value: '1', lease: ours, ifLease: guard },
          { key: key('g/bare'), value: '1', lease: ours, ifLease: guard },
          { key: key('g/theirs'), value: '1', lease: ours, ifLease: guard },
          { key: key('g/mine'), value: '1', lease: ours, ifLease: [theirs, ours] },
          { key: key('g/plain'), value: '1', lease: '0' },
        ]),
      );
      expect([...answer.held]).toEqual([[key('g/theirs'), theirs]]);
      const range = await t.settle(t.port.range(key('g/')));
      expect(
        range.entries.map((e) => [e.key.toString(), e.value.toString(), e.lease, e.modRevision]),
      ).toEqual([
        [key('g/absent'), '1', ours, answer.revision],
        [key('g/bare'), '1', ours, answer.revision],
        [key('g/mine'), '1', ours, answer.revision],
        [key('g/plain'), '1', '0', answer.revision],
        [key('g/theirs'), 't', theirs, answer.revision - 1n],
      ]);
      // A put that is not made is not checked: its lease may be one etcd does not know.
      const alone = await t.settle(
        t.port.putAll([{ key: key('g/theirs'), value: '2', lease: '999999', ifLease: ['0'] }]),
      );
      expect([...alone.held]).toEqual([[key('g/theirs'), theirs]]);
      expect((await t.settle(t.port.range(key('g/theirs')))).entries[0]?.value.toString()).toBe(
        't',
      );
    });

    it('counts the keys of a prefix, and those written after a revision', async () => {
      const before = await put([{ key: key('old'), value: '', lease: '0' }]);
      await put([{ key: key('new'), value: '', lease: '0' }]);
      const delta = await t.settle(t.port.delta(t.prefix, before));
      expect(delta).toMatchObject({ count: 2, changed: 1 });
      expect(delta.revision).toBe(before + 1n);
    });

    it('watches from a revision: what it missed, then a transaction’s events together, then deletes', async () => {
      const first = await put([{ key: key('w/a'), value: '1', lease: '0' }]);
      const { heard, listener, changes } = listen();
      const watch = t.port.watch(key('w/'), first, listener);
      await t.until(() => changes().length === 1, 'the history');
      await put([
        { key: key('w/b'), value: '2', lease: '0' },
        { key: key('w/c'), value: '3', lease: '0' },
        { key: key('elsewhere'), value: '', lease: '0' },
      ]);
      await t.settle(t.port.deleteKey(key('w/a')));
      await t.until(() => changes().length === 3, 'the changes');
      expect(heard[0]).toHaveProperty('created');
      expect(
        changes().map((batch) => batch.map((c) => `${c.type} ${c.key.toString()} ${c.version}`)),
      ).toEqual([
        [`put ${key('w/a')} 1`],
        [`put ${key('w/b')} 1`, `put ${key('w/c')} 1`],
        [`delete ${key('w/a')} 0`],
      ]);
      watch.cancel();
      await put([{ key: key('w/d'), value: '', lease: '0' }]);
      await t.settle(t.port.range(t.prefix));
      expect(changes()).toHaveLength(3);
    });

    it('sends a watch’s catch-up (what it missed) in one response of whole transactions, in order', async () => {
      const first = await put([{ key: key('c/a'), value: '1', lease: '0' }]);
      await put([
        { key: key('c/b'), value: '2', lease: '0' },
        { key: key('c/c'), value: '3', lease: '0' },
      ]);
      await t.settle(t.port.deleteKey(key('c/a')));
      const { listener, changes } = listen();
      const watch = t.port.watch(key('c/'), first, listener);
      await t.until(() => changes().flat().length === 4, 'the catch-up');
      // etcd sends what a watch missed together; transactions stay whole and in revision order.
      expect(
        changes().map((batch) => batch.map((c) => `${c.type} ${c.key.toString().slice(-3)}`)),
      ).toEqual([['put c/a', 'put c/b', 'put c/c', 'delete c/a']]);
      watch.cancel();
    });

    it('answers a progress request with a revision no older than the last event', async () => {
      const { heard, listener } = listen();
      const { revision } = await t.settle(t.port.revision(key('x')));
      const watch = t.port.watch(key('p/'), revision + 1n, listener);
      await t.until(() => heard.length === 1, 'created');
      const written = await put([{ key: key('unwatched'), value: '', lease: '0' }]);
      watch.requestProgress();
      await t.until(() => heard.some((item) => 'progress' in item), 'progress');
      const progress = heard.find((item) => 'progress' in item);
      expect(progress).toBeDefined();
      expect((progress as { progress: bigint }).progress).toBeGreaterThanOrEqual(written);
      watch.cancel();
    });

    it('ends a watch that starts before a compaction with the compaction revision', async () => {
      const first = await put([{ key: key('c/a'), value: '', lease: '0' }]);
      const last = await put([{ key: key('c/b'), value: '', lease: '0' }]);
      await t.compact(last);
      const { heard, listener } = listen();
      t.port.watch(key('c/'), first, listener);
      await t.until(() => heard.some((item) => 'ended' in item), 'the end');
      expect(heard.find((item) => 'ended' in item)).toEqual({
        ended: { kind: 'compacted', compactRevision: last },
      });
    });

    it('delivers a watch from exactly the compaction revision (etcd keeps that revision)', async () => {
      await put([{ key: key('k/a'), value: '', lease: '0' }]);
      const kept = await put([{ key: key('k/b'), value: '', lease: '0' }]);
      await t.compact(kept);
      const { heard, listener, changes } = listen();
      const watch = t.port.watch(key('k/'), kept, listener);
      await t.until(() => changes().length === 1, 'the kept revision');
      expect(changes().map((batch) => batch.map((c) => c.key.toString()))).toEqual([[key('k/b')]]);
      expect(heard.some((item) => 'ended' in item)).toBe(false);
      watch.cancel();
    });

    it('refuses a transaction of more than 128 operations, or one that names a key twice, whole', async () => {
      const many = Array.from({ length: 129 }, (_, i) => ({
        key: key(`t/${i}`),
        value: '',
        lease: '0',
      }));
      const refusal = async (puts: typeof many): Promise<string> =>
        put(puts).then(
          () => 'written',
          (error: unknown) => (error instanceof EtcdFailure ? error.kind : String(error)),
        );
      expect(await refusal(many)).toBe('invalid');
      expect(await refusal(many.slice(0, 128))).toBe('written');
      expect(await refusal([many[0], many[0]].filter((put) => put !== undefined))).toBe('invalid');
      expect((await t.settle(t.port.range(key('t/')))).entries).toHaveLength(128);
    });

    it('refuses a request over etcd’s size limit (1.5 MiB), whole', async () => {
      const big = 'x'.repeat(1024 * 1024);
      const refused = await put([
        { key: key('s/a'), value: big, lease: '0' },
        { key: key('s/b'), value: big.slice(0, 600 * 1024), lease: '0' },
      ]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(EtcdFailure);
      expect((refused as EtcdFailure).kind).toBe('invalid');
      await put([{ key: key('s/c'), value: big, lease: '0' }]); // Under it: written.
      expect(
        (await t.settle(t.port.range(key('s/')))).entries.map((e) => e.key.toString()),
      ).toEqual([key('s/c')]);
    });

    it('grants a lease no shorter than etcd’s shortest (2 s), and expires it no sooner than its TTL', async () => {
      const before = t.now();
      const lease = await t.settle(t.port.grantLease(1));
      await put([{ key: key('e/a'), value: '', lease }]);
      const ttls: number[] = [];
      const keepAlive = t.port.keepAlive(lease, {
        renewed: (ttl) => ttls.push(ttl),
        failed: () => ttls.push(-1),
      });
      keepAlive.renew();
      await t.until(() => ttls.length === 1, 'renewed');
      keepAlive.close();
      expect(ttls).toEqual([2]);
      let gone = false;
      let looking = false;
      const look = (): void => {
        if (looking) return; // One range at a time, none left running when the test ends.
        looking = true;
        void t.port.range(key('e/')).then(
          (range) => {
            gone = range.entries.length === 0;
            looking = false;
          },
          () => (looking = false),
        );
      };
      await t.until(() => {
        look();
        return gone;
      }, 'the lease expired');
      await t.until(() => !looking, 'the last range answered');
      // Seen gone no sooner than its TTL after it was asked for (a lower bound: a busy machine only adds).
      expect(t.now() - before).toBeGreaterThanOrEqual(2000);
    });

    it('refreshes every lease when a leader is elected: one whose deadline passed while etcd was down lives on', async () => {
      const lease = await t.settle(t.port.grantLease(6));
      await put([{ key: key('r/a'), value: '', lease }]);
      const deadline = t.now() + 6000;
      await t.restart(() => pass(deadline + 500 - t.now(), 'the lease’s deadline passed'));
      const range = await answered(() => t.port.range(key('r/')));
      expect(range.entries.map((e) => e.lease)).toEqual([lease]);
    });

    it('applies a request its caller timed out on: a failed write may still be written', async () => {
      t.holdAnswers(true);
      const failed = await t
        .settle(t.port.putAll([{ key: key('late/a'), value: 'late', lease: '0' }]))
        .catch((error: unknown) => error);
      t.holdAnswers(false);
      expect(failed).toBeInstanceOf(EtcdFailure);
      expect(['late', 'unavailable']).toContain((failed as EtcdFailure).kind);
      let value: string | undefined;
      let looking = false;
      await t.until(() => {
        if (!looking) {
          looking = true;
          void t.port.range(key('late/')).then(
            (range) => {
              value = range.entries[0]?.value.toString();
              looking = false;
            },
            () => (looking = false),
          );
        }
        return value === 'late';
      }, 'the late put applied');
      await t.until(() => !looking, 'the last range answered');
    });

    it('keeps a lease alive, revokes it with its keys, and says 0 for a lease it does not know', async () => {
      const lease = await t.settle(t.port.grantLease(30));
      await put([{ key: key('l/a'), value: '', lease }]);
      const ttls: number[] = [];
      const keepAlive = t.port.keepAlive(lease, {
        renewed: (ttl) => ttls.push(ttl),
        failed: () => ttls.push(-1),
      });
      keepAlive.renew();
      await t.until(() => ttls.length === 1, 'renewed');
      expect(ttls[0]).toBeGreaterThan(0);
      await t.settle(t.port.revokeLease(lease));
      expect((await t.settle(t.port.range(key('l/')))).entries).toEqual([]);
      keepAlive.renew();
      await t.until(() => ttls.length === 2, 'renewed again');
      expect(ttls[1]).toBe(0);
      keepAlive.close();
      await t.settle(t.port.revokeLease(lease)); // Revoked already: fine.
      const refused = await put([{ key: key('l/b'), value: '', lease }]).catch(
        (error: unknown) => error,
      );
      expect(isLeaseNotFound(refused)).toBe(true);
    });
  });
}
