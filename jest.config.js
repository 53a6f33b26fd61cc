// Two projects: `unit` (pure functions and state machines, seconds) and `integration` (real etcd
// processes, the CLI, the demo, the packed package, a browser). `npm test` runs both; one alone:
//   npx jest --selectProjects unit
/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  transform: {
    // tsconfig's `isolatedModules` makes ts-jest transpile only: type checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
  },
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['\\.integration\\.spec\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.integration.spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/spec/support/integrationTimeout.ts'],
    },
  ],
  maxWorkers: 2,
  // Snapshots (GSR_SNAPSHOT_DIR's default) go to a cache directory of this run, not the user's.
  globalSetup: '<rootDir>/spec/support/globalSetup.cjs',
  globalTeardown: '<rootDir>/spec/support/globalTeardown.cjs',
};
