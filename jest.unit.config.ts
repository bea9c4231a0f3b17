// Unit and property tests of pure logic: fast, no services.
const preset = require('./jest.preset.js');

export default {
  ...preset,
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'],
};
