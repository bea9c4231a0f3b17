#!/usr/bin/env node
// The `tessera` CLI (package bin, `npm run -s tessera -- …`). Runs dist/apps/cli/main.js in
// this very process (no second node start-up); builds it first when it is missing, with the
// build's output on stderr so stdout stays clean for --json.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'apps', 'cli', 'main.js');

function build() {
  process.stderr.write('tessera: building the CLI (first run)…\n');
  const result = spawnSync('npx', ['nx', 'build', 'cli'], {
    cwd: ROOT,
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  if (result.error) {
    process.stderr.write(`tessera: cannot build the CLI: ${result.error.message}\n`);
    process.exit(1);
  }
  if (result.status !== 0 || !fs.existsSync(MAIN)) {
    process.stderr.write(
      `tessera: building the CLI failed (npx nx build cli, exit ${result.status ?? result.signal})\n`,
    );
    process.exit(1);
  }
}

if (!fs.existsSync(MAIN)) build();
// The bundle reads process.argv itself (argv[2…] are the user's arguments, as for node MAIN).
require(MAIN);
