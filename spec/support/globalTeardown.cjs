const { rmSync } = require('node:fs');

module.exports = () => {
  const cache = process.env.XDG_CACHE_HOME;
  if (cache !== undefined && cache.includes('gsr-test-cache-')) {
    rmSync(cache, { recursive: true, force: true });
  }
};
