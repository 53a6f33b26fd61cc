// Mutation testing of the pure cores (`npm run mutate:cores`, StrykerJS): changes the pure cores below one small mutation at a
// time and runs their unit specs; a mutant that no spec notices is a test that could not fail there.
// Not part of `npm test` (minutes, not seconds). The score of the last run is in docs/development.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutate-cores.config.js',
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'off',
  mutate: [
    'lib/snapshot/snapshotCodec.ts',
    'lib/text/escapeText.ts',
    'lib/text/maskCredentials.ts',
    'lib/endpoint/metadataCodec.ts',
    'lib/config/normalizeKeyPrefix.ts',
  ],
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'build/mutation/cores.json' },
  concurrency: 2,
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: 'build/stryker-tmp',
  cleanTempDir: 'always',
};
