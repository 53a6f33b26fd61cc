// Preloaded with `node --require` by specs that check what a command loads: at exit, writes the
// packages in require's cache (one name per line) to the file named by PRINT_LOADED_PACKAGES_TO.
'use strict';
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const packages = new Set();
  for (const file of Object.keys(require.cache)) {
    const match = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    if (match) packages.add(match[1].replace('\\', '/'));
  }
  writeFileSync(process.env.PRINT_LOADED_PACKAGES_TO, [...packages].sort().join('\n'));
});
