/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    // tsconfig's `isolatedModules` makes ts-jest transpile only: type checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
  },
  // Integration specs start their own etcd; give them room but fail fast on a hang.
  testTimeout: 60_000,
  maxWorkers: 2,
};
