#!/usr/bin/env node
// Runs a TypeScript tool script from source: swc transpiles it (decorator metadata kept) and
// tsconfig-paths resolves the @tessera/* aliases. Usage: node tools/scripts/ts-run.js FILE.ts [args…]
const path = require('node:path');
process.env.TS_NODE_PROJECT = path.join(__dirname, '../../tsconfig.base.json');
process.env.SWC_NODE_PROJECT = process.env.TS_NODE_PROJECT;
require('@swc-node/register');
require('tsconfig-paths/register');
const [, , file, ...rest] = process.argv;
if (!file) {
  process.stderr.write('usage: ts-run FILE.ts [args…]\n');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(file), ...rest];
require(path.resolve(file));
