// One cache directory per run (XDG_CACHE_HOME, which GSR_SNAPSHOT_DIR's default is under), inherited
// by jest's workers and every process a spec starts: a run never reads the snapshots of an earlier one,
// nor writes into the user's ~/.cache.
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = () => {
  process.env.XDG_CACHE_HOME = mkdtempSync(join(tmpdir(), 'gsr-test-cache-'));
};
