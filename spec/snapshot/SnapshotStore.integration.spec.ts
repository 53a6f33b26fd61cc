import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock } from '../sim/SimClock';
import { SNAPSHOT_DELAY_MS, SnapshotStore } from '../../lib/snapshot/SnapshotStore';
import { MAX_SNAPSHOT_BYTES } from '../../lib/snapshot/snapshotCodec';

const DAY_MS = 24 * 3600 * 1000;
const identity = { etcd: ['http://127.0.0.1:2379'], keyPrefix: 'gsr/' };
const entries = [{ key: Buffer.from('gsr/services/web/a:1'), value: Buffer.from('{"x":1}') }];
const LIST = 'gsr/services/web/';

describe('SnapshotStore', () => {
  let root: string;
  let warnings: string[];
  let clock: SimClock;
  const store = (dir = join(root, 'snapshots'), maxAgeMs = DAY_MS) =>
    new SnapshotStore(dir, identity, {
      maxAgeMs,
      clock,
      logger: { warn: (message: string) => warnings.push(message) },
    });
  /** Writes the list through one store and returns the file it wrote. */
  const written = async (): Promise<string> => {
    const writer = store();
    writer.save(LIST, { entries: () => entries, revision: 5n });
    await writer.close();
    return writer.pathOf(LIST);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gsr-snapshots-'));
    warnings = [];
    clock = new SimClock(1);
    clock.schedule(1_700_000_000_000, () => undefined);
    clock.step(); // A realistic "now".
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes a list within the delay, as it is then, and reads it back', async () => {
    const writer = store();
    let now = entries.slice(0, 1);
    writer.save(LIST, { entries: () => now, revision: 5n });
    now = [...entries, { key: Buffer.from('gsr/services/web/b:1'), value: Buffer.from('') }];
    expect(await store().load(LIST)).toBeUndefined(); // Nothing written yet.
    clock.step(); // The delay passes.
    expect(clock.now()).toBe(1_700_000_000_000 + SNAPSHOT_DELAY_MS);
    await writer.flush();
    const read = await store().load(LIST);
    expect(read?.entries).toEqual(now);
    expect(read?.revision).toBe(5n);
    expect(warnings).toEqual([]);
    // Atomic: one file, mode 0600 in a 0700 directory, no temporary left.
    const dir = join(root, 'snapshots');
    expect(readdirSync(dir)).toEqual([writer.pathOf(LIST).slice(dir.length + 1)]);
    expect(statSync(writer.pathOf(LIST)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('writes what is pending when it closes, then nothing more', async () => {
    const path = await written();
    expect(readFileSync(path, 'utf8')).toMatch(/^gsr-snapshot 1 sha256=/);
  });

  it('skips, with one warning each, a corrupt, truncated, huge, too old or future file', async () => {
    const path = await written();
    const good = readFileSync(path, 'utf8');
    const cases: [string, () => void, RegExp][] = [
      [
        'corrupt',
        () => writeFileSync(path, good.replace('"revision":"5"', '"revision":"6"')),
        /checksum/,
      ],
      ['truncated', () => writeFileSync(path, good.slice(0, good.length - 3)), /checksum/],
      ['huge', () => truncateSync(path, MAX_SNAPSHOT_BYTES + 1), /larger than/],
      ['empty', () => writeFileSync(path, ''), /not a gsr snapshot/],
    ];
    for (const [, spoil, expected] of cases) {
      spoil();
      warnings = [];
      expect(await store().load(LIST)).toBeUndefined();
      expect(warnings).toEqual([expect.stringMatching(expected)]);
      writeFileSync(path, good);
    }
    warnings = [];
    clock.schedule(2 * DAY_MS, () => undefined);
    clock.step();
    expect(await store().load(LIST)).toBeUndefined();
    expect(warnings).toEqual([
      expect.stringMatching(/longer ago than GSR_SNAPSHOT_MAX_AGE_SECONDS/),
    ]);
    // Written "tomorrow": a clock that jumped back.
    warnings = [];
    expect(await store(undefined, 365 * DAY_MS).load(LIST)).toBeDefined();
    const past = new SimClock(2);
    const reader = new SnapshotStore(join(root, 'snapshots'), identity, {
      maxAgeMs: DAY_MS,
      clock: past,
      logger: { warn: (message: string) => warnings.push(message) },
    });
    expect(await reader.load(LIST)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/in the future/)]);
  });

  it("skips another etcd's snapshot, a symlink, and a file or directory others can write", async () => {
    const path = await written();
    const foreign = new SnapshotStore(
      join(root, 'snapshots'),
      { ...identity, keyPrefix: 'x/' },
      {
        maxAgeMs: DAY_MS,
        clock,
        logger: { warn: (message: string) => warnings.push(message) },
      },
    );
    // Another prefix's file has another name: it is never even opened.
    expect(foreign.pathOf(LIST)).not.toBe(path);
    writeFileSync(foreign.pathOf(LIST), readFileSync(path));
    chmodSync(foreign.pathOf(LIST), 0o600);
    expect(await foreign.load(LIST)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/of another etcd or key prefix: skipped$/)]);

    warnings = [];
    chmodSync(path, 0o666);
    expect(await store().load(LIST)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/can be written by other users: skipped/)]);
    chmodSync(path, 0o600);

    warnings = [];
    const elsewhere = join(root, 'elsewhere');
    writeFileSync(elsewhere, readFileSync(path), { mode: 0o600 });
    rmSync(path);
    symlinkSync(elsewhere, path);
    expect(await store().load(LIST)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/is a symlink: skipped/)]);

    warnings = [];
    chmodSync(join(root, 'snapshots'), 0o777);
    const open = store();
    expect(await open.load(LIST)).toBeUndefined();
    open.save(LIST, { entries: () => entries, revision: 5n });
    await open.close();
    expect(warnings).toEqual([expect.stringMatching(/can be written by other users: not used$/)]);
  });

  it('skips a FIFO at once (never waits for a writer), and follows a symlinked directory', async () => {
    const path = await written();
    const good = readFileSync(path);
    rmSync(path);
    execFileSync('mkfifo', ['-m', '600', path]);
    expect(await store().load(LIST)).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/is not a regular file: skipped$/)]);
    rmSync(path);
    writeFileSync(path, good, { mode: 0o600 });
    const link = join(root, 'link');
    symlinkSync(join(root, 'snapshots'), link);
    warnings = [];
    expect((await store(link).load(LIST))?.entries).toEqual(entries);
    expect(warnings).toEqual([]);
  });

  it('reads a directory it may not write, and says once that it does not write there', async () => {
    // /sys is read-only for every user, root included.
    const readOnly = store('/sys/gsr-snapshots');
    readOnly.save(LIST, { entries: () => entries, revision: 5n });
    await readOnly.flush();
    readOnly.save(LIST, { entries: () => entries, revision: 6n });
    await readOnly.close();
    expect(warnings).toEqual([
      expect.stringMatching(/^snapshots are read from \/sys\/gsr-snapshots, not written: /),
    ]);
    expect(await readOnly.load(LIST)).toBeUndefined();
  });

  it('escapes a directory name with control characters in its warnings', async () => {
    const odd = join(root, 'a\u001b[31mb');
    writeFileSync(odd, 'not a directory');
    const writer = store(odd);
    expect(await writer.load(LIST)).toBeUndefined();
    writer.save(LIST, { entries: () => entries, revision: 1n });
    await writer.close();
    expect(warnings.join('\n')).not.toContain('\u001b');
    expect(warnings).toEqual([expect.stringMatching(/is not a directory: not used/)]);
  });
});
