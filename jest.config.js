/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Jest 30 "soft deletes" globals a test file set, wrapping them in accessors whose setter recurses
  // without end when a later file in the same worker sets one again (RangeError: Maximum call stack).
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // The generated Prisma client imports its siblings as .js; under jest they are .ts sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
