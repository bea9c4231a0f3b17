// Integration tests against the real local Postgres and NATS; each suite makes its own
// database and TESSERA_CLUSTER (see libs/testing).
const preset = require('./jest.preset.js');

export default {
  ...preset,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.integration-spec.ts'],
  testTimeout: 60_000,
};
