// Lint: type-aware rules from house style, and Nx module boundaries that really restrict:
// apps never import apps, pure libs import no I/O library.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const ioLibraries = [
  'nats', 'pg', 'typeorm', '@nestjs/*', 'express', 'pino', 'pino-http', 'nestjs-pino',
  'prom-client', 'commander', 'cli-progress', 'cli-table3', 'fs', 'node:fs', 'net', 'node:net',
  'http', 'node:http', 'child_process', 'node:child_process',
];

/** Tests (and only tests) may also use the shared test factories (type:testing). */
function depConstraints(forTests) {
  const t = (tags) => (forTests ? [...tags, 'type:testing'] : tags);
  return [
    { sourceTag: 'type:app', onlyDependOnLibsWithTags: t(['type:contracts', 'type:data-access', 'type:util']) },
    { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:data-access', 'type:util', 'type:testing'] },
    { sourceTag: 'type:data-access', onlyDependOnLibsWithTags: t(['type:contracts', 'type:data-access', 'type:util']) },
    { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:contracts'], bannedExternalImports: ioLibraries },
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'], bannedExternalImports: ioLibraries },
    { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:data-access', 'type:util', 'type:testing'] },
    ...['shared', 'coordinator', 'health', 'consensus', 'replication', 'recovery', 'kv-node', 'cli', 'e2e'].map((scope) => ({
      sourceTag: `scope:${scope}`,
      onlyDependOnLibsWithTags: ['scope:shared'],
    })),
  ];
}

const boundaries = (forTests) => [
  'error',
  { enforceBuildableLibDependency: true, banTransitiveDependencies: false, allow: [], depConstraints: depConstraints(forTests) },
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.nx', 'coverage', '**/webpack.config.js', 'jest.preset.js', 'bench/results'],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: false,
          allow: [],
          depConstraints: depConstraints(false),
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // Nest's DI reads constructor parameter types at run time; inline `type` imports there
    // would erase the token. Decorated classes keep value imports.
    files: ['apps/**/*.ts', 'libs/messaging/**/*.ts', 'libs/service-kit/**/*.ts', 'libs/persistence/**/*.ts', 'libs/node-agent/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  {
    // Pure libs: no I/O of any kind, Node built-ins included (Nx bans only npm packages).
    files: ['libs/contracts/**/*.ts', 'libs/placement/**/*.ts', 'libs/failure-detector/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.integration-spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', ...ioLibraries], message: 'pure libs (contracts, placement, failure-detector) import no I/O library' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': boundaries(true),
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
