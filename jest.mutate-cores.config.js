// The unit specs of the files `npm run mutate:cores` mutates (stryker.cores.config.mjs): each mutant runs only these.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testMatch: [
    '**/spec/snapshot/snapshotCodec.spec.ts',
    '**/spec/text/escapeText.spec.ts',
    '**/spec/text/maskCredentials.spec.ts',
    '**/spec/endpoint/metadataCodec.spec.ts',
    '**/spec/config/normalizeKeyPrefix.spec.ts',
  ],
};
