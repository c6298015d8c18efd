/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Jest 30 "soft deletes" globals a test file set, wrapping them in accessors whose setter recurses
  // without end when a later file in the same worker sets one again (RangeError: Maximum call stack).
  testEnvironmentOptions: { globalsCleanup: 'off' },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '/node_modules/(hyparquet-writer|hyparquet)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
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
  // hyparquet-writer (and hyparquet) are ES modules that the service require()s (Node >= 20.19 loads them natively);
  // jest's own module system cannot, so swc turns them into CommonJS for the tests.
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet-writer|hyparquet)/)'],
  // The generated Prisma client imports its siblings as .js; under jest they are .ts sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
