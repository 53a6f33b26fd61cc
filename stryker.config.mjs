// Mutation testing (`npm run mutate`, StrykerJS): changes the core's state machines below one small
// mutation at a time and runs the specs that reach it, both simulations among them; a mutant that no
// spec notices is a test that could not fail there. Not part of `npm test` (minutes, not seconds);
// incremental. The pure cores have their own run (`npm run mutate:cores`, stryker.cores.config.mjs).
// The scores of the last runs are in docs/development.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutate.config.js',
    enableFindRelatedTests: false,
  },
  // Each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  mutate: [
    // The state machines: a registration's key, the lease, discovery's read fence, outlier ejection.
    'lib/registration/Registrar.ts:190-460', // unregister, close and the write loop
    'lib/registration/judgeKey.ts',
    'lib/registration/KeyRemoval.ts',
    'lib/registration/OwnLeases.ts',
    'lib/registration/SharedLease.ts',
    'lib/discovery/ReadFences.ts',
    'lib/balancing/Ejection.ts',
    'lib/balancing/OutlierEjection.ts',
  ],
  // Later runs test only the mutants whose code or tests changed (committed: a clean clone too).
  incremental: true,
  incrementalFile: 'docs/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'build/mutation/report.json' },
  concurrency: 2,
  // A mutant that makes a simulation loop hits its own bound (events) first; this is the backstop.
  timeoutMS: 2000,
  timeoutFactor: 1.25,
  thresholds: { high: 90, low: 80, break: null },
  disableTypeChecks: 'lib/**/*.ts',
  ignorePatterns: ['dist', 'docs/api', 'build', 'bench', 'demo'],
  tempDirName: 'build/stryker-tmp',
  cleanTempDir: 'always',
};
