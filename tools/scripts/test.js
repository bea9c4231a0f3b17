#!/usr/bin/env node
// `npm test`: ensure (deps, Postgres, NATS, database), then every check in order, stopping at the
// first failure with its exit code, and a timing summary at the end. CI runs this via .ci/run.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ensure } = require('./ensure');

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS_DIR = path.join(ROOT, 'tmp', 'test-results');
const STEPS = [
  'lint',
  'typecheck',
  'test:unit',
  'db:migrate',
  'build',
  'test:integration',
  'test:e2e',
];

// CI-safe Nx: no daemon, no cloud, no TUI; in CI also no task cache, which Nx keeps per machine
// and could otherwise let a CI clone "pass" from this session's results.
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
if (process.env.CI) env.NX_SKIP_NX_CACHE = 'true';

const log = (message) => console.log(`[test] ${message}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function exec(command, args, stdio = 'inherit') {
  const result = spawnSync(command, args, { cwd: ROOT, env, stdio });
  if (result.error) {
    console.error(`[test] ${command} could not start: ${result.error.message}`);
    return { code: 1, output: '' };
  }
  const output = stdio === 'pipe' ? `${result.stdout}${result.stderr}` : '';
  return { code: result.status ?? 1, output };
}

/** Scripts that are plain jest runs also write a JSON report, so the totals can be summed. */
function jestReportArgs(step) {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  if (!/^jest\s/.test(scripts[step] ?? '')) return { args: [], report: null };
  const report = path.join(RESULTS_DIR, `${step.replace(':', '-')}.json`);
  fs.rmSync(report, { force: true });
  return { args: ['--', '--json', `--outputFile=${report}`], report };
}

function runStep(step) {
  if (step === 'lint') {
    // @nx/enforce-module-boundaries reads the cached project graph and silently skips itself
    // when there is none (a fresh clone): compute the graph first so boundaries are enforced.
    const graph = exec('npx', ['nx', 'show', 'projects'], 'pipe');
    if (graph.code !== 0) {
      process.stdout.write(graph.output);
      return { code: graph.code, report: null };
    }
  }
  const { args, report } = jestReportArgs(step);
  return { code: exec('npm', ['run', step, ...args]).code, report };
}

async function main() {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const summary = [];
  const totals = { passed: 0, failed: 0, skipped: 0, reports: 0 };
  let exitCode = 0;

  const ensureStart = Date.now();
  try {
    await ensure(env);
    summary.push({ step: 'ensure', ok: true, ms: Date.now() - ensureStart });
  } catch (error) {
    console.error(`[ensure] ${error.message}`);
    summary.push({ step: 'ensure', ok: false, ms: Date.now() - ensureStart });
    exitCode = 1;
  }

  for (const step of exitCode === 0 ? STEPS : []) {
    log(`==> npm run ${step}`);
    const start = Date.now();
    const { code, report } = runStep(step);
    summary.push({ step, ok: code === 0, ms: Date.now() - start });
    if (report && fs.existsSync(report)) {
      const r = JSON.parse(fs.readFileSync(report, 'utf8'));
      totals.passed += r.numPassedTests;
      totals.failed += r.numFailedTests;
      totals.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
      totals.reports++;
    }
    if (code !== 0) {
      exitCode = code;
      break;
    }
  }
  printSummary(summary, totals, exitCode);
  return exitCode;
}

function printSummary(summary, totals, exitCode) {
  const total = summary.reduce((sum, s) => sum + s.ms, 0);
  const width = Math.max(...['ensure', ...STEPS].map((s) => s.length));
  console.log('\n[test] summary');
  for (const { step, ok, ms } of summary) {
    console.log(`  ${step.padEnd(width)}  ${ok ? 'ok  ' : 'FAIL'}  ${seconds(ms).padStart(8)}`);
  }
  const notRun = STEPS.filter((step) => !summary.some((s) => s.step === step));
  for (const step of notRun) console.log(`  ${step.padEnd(width)}  --    not run`);
  console.log(
    `  ${'total'.padEnd(width)}  ${exitCode === 0 ? 'ok  ' : 'FAIL'}  ${seconds(total).padStart(8)}`,
  );
  if (totals.reports > 0) {
    console.log(
      `tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
    );
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[test] ${error.stack}`);
    process.exit(1);
  },
);
