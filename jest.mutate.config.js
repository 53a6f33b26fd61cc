// The specs each mutant of `npm run mutate` runs (stryker.config.mjs): the unit specs of the files it
// mutates, and both simulations over fixed seeds (spec/support/mutateSeeds.ts), so that a mutant's
// verdict is the same from run to run, which incremental runs rely on.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFilesAfterEnv: ['<rootDir>/spec/support/mutateSeeds.ts'],
  testMatch: [
    // The state machines: registration, the lease, discovery's read fence and departures, ejection.
    '**/spec/registration/*.spec.ts',
    '**/spec/discovery/*.spec.ts',
    '**/spec/balancing/OutlierEjection.spec.ts',
    '**/spec/balancing/Balancer.spec.ts',
    '**/spec/sim/simulation.spec.ts',
    '**/spec/sim/balancerSimulation.spec.ts',
  ],
  testPathIgnorePatterns: ['\\.integration\\.spec\\.ts$'],
};
