// End-to-end tests: start the built apps (dist/apps/*/main.js) as real processes.
const preset = require('./jest.preset.js');

export default {
  ...preset,
  displayName: 'e2e',
  testMatch: ['<rootDir>/apps/e2e/**/*.e2e-spec.ts'],
  testTimeout: 180_000,
};
