import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scratchDir } from '../../lib/testing/scratchDir';

describe('scratchDir', () => {
  it('falls back to the temporary directory when the memory directory is missing', () => {
    expect(scratchDir('/nonexistent/gsr-shm')).toBe(tmpdir());
  });

  it('takes the memory directory when it has 1 GiB free', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gsr-scratch-'));
    try {
      const { bavail, bsize } = statfsSync(dir);
      expect(scratchDir(dir)).toBe(bavail * bsize >= 1024 ** 3 ? dir : tmpdir());
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
