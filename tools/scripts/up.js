#!/usr/bin/env node
// `npm run up`: a whole local cluster from a fresh clone — ensure (deps, Postgres, NATS,
// database), migrate, build, then the five services and three kv-nodes as child processes with
// prefixed logs. Ctrl-C / SIGTERM stops exactly the processes started here, by PID.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const readline = require('node:readline');
const { ensure } = require('./ensure');

const ROOT = path.resolve(__dirname, '..', '..');
const API_PORT = 3000;
const READY_DEADLINE_MS = 180_000;
const KILL_AFTER_MS = 10_000;

const SERVICES = [
  { name: 'coordinator', port: 3000 },
  { name: 'health', port: 3001 },
  { name: 'consensus', port: 3002 },
  { name: 'replication', port: 3003 },
  { name: 'recovery', port: 3004 },
];
const KV_NODES = [1, 2, 3].map((n) => ({ id: `kv-${n}`, zone: `z${n}`, rack: `r${n}` }));

// Set per process below; never inherited from the caller's shell by the wrong process.
const PER_PROCESS_VARS = [
  'TESSERA_HTTP_PORT',
  'KV_DATA_DIR',
  'TESSERA_MIGRATE',
  'TESSERA_NODE_ID',
  'TESSERA_NODE_ZONE',
  'TESSERA_NODE_RACK',
];
const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

const log = (message) => console.log(`[up] ${message}`);

function npmRun(script) {
  log(`npm run ${script}`);
  const result = spawnSync('npm', ['run', script], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...NX_ENV },
  });
  if (result.status !== 0) {
    log(`npm run ${script} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

function isListening(port) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function processPlan() {
  const base = { ...process.env };
  for (const key of PER_PROCESS_VARS) delete base[key];
  base.TESSERA_MIGRATE = 'false'; // migrated once above; services must not race to migrate
  const services = SERVICES.map(({ name, port }) => ({
    name,
    main: `dist/apps/${name}/main.js`,
    env: { ...base, TESSERA_HTTP_PORT: String(port) },
  }));
  const nodes = KV_NODES.map(({ id, zone, rack }) => {
    const dataDir = path.join(ROOT, 'tmp', 'up', id); // kept across runs: a node keeps its data
    fs.mkdirSync(dataDir, { recursive: true });
    return {
      name: id,
      main: 'dist/apps/kv-node/main.js',
      env: {
        ...base,
        TESSERA_HTTP_PORT: '0',
        TESSERA_NODE_ID: id,
        TESSERA_NODE_ZONE: zone,
        TESSERA_NODE_RACK: rack,
        KV_DATA_DIR: dataDir,
      },
    };
  });
  return [...services, ...nodes];
}

const children = new Map(); // name → ChildProcess, only those still running
let stopping = false;

function start({ name, main, env }, width) {
  const prefix = `[${name}]`.padEnd(width + 2);
  // detached: own process group, so the terminal's Ctrl-C reaches only us and we stop the
  // children in order (SIGTERM, then SIGKILL) instead of racing them.
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline
      .createInterface({ input: stream })
      .on('line', (line) => process.stdout.write(`${prefix} ${line}\n`));
  }
  child.once('error', (error) => log(`${name} could not start: ${error.message}`));
  child.once('exit', (code, signal) => {
    children.delete(name);
    if (!stopping)
      log(`${name} (pid ${child.pid}) exited unexpectedly: ${signal ?? `code ${code}`}`);
    if (children.size === 0) process.exit(stopping ? (process.exitCode ?? 0) : 1);
  });
}

function stopAll(signal) {
  if (stopping) {
    // Second Ctrl-C: no more waiting.
    log('killing everything now');
    for (const child of children.values()) child.kill('SIGKILL');
    return;
  }
  stopping = true;
  log(`${signal}: stopping ${children.size} processes`);
  if (children.size === 0) process.exit(process.exitCode ?? 0);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const [name, child] of children) {
      log(`${name} (pid ${child.pid}) still running after ${KILL_AFTER_MS / 1000} s: SIGKILL`);
      child.kill('SIGKILL');
    }
  }, KILL_AFTER_MS).unref();
}

function ready(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(false));
  });
}

async function waitForReady() {
  const url = `http://127.0.0.1:${API_PORT}/health/ready`;
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!stopping) {
    if (await ready(url)) return true;
    if (Date.now() > deadline) {
      log(
        `${url} not ready after ${READY_DEADLINE_MS / 1000} s; the processes keep running, see their logs above`,
      );
      return false;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function main() {
  await ensure(process.env, { tests: false }); // the browser and libfaketime are for npm test only
  const busy = [];
  for (const { name, port } of SERVICES)
    if (await isListening(port)) busy.push(`${port} (${name})`);
  if (busy.length > 0) {
    log(`port ${busy.join(', ')} already in use: is another \`npm run up\` running?`);
    process.exit(1);
  }
  npmRun('db:migrate');
  npmRun('build');

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(signal));
  // Last resort if this script dies on an exception: do not leave orphans behind.
  process.on('exit', () => {
    for (const child of children.values()) child.kill('SIGKILL');
  });

  const plan = processPlan();
  const width = Math.max(...plan.map((p) => p.name.length));
  for (const entry of plan) start(entry, width);
  log(`started ${plan.map((p) => `${p.name}=${children.get(p.name)?.pid}`).join(' ')}`);

  if (await waitForReady()) {
    const base = `http://127.0.0.1:${API_PORT}`;
    log('Tessera is up');
    log(`  API        ${base}/api/v1`);
    log(`  dashboard  ${base}/`);
    log(`  API docs   ${base}/docs`);
    log('Ctrl-C stops everything started here.');
  }
}

main().catch((error) => {
  console.error(`[up] ${error.message}`);
  process.exitCode = 1;
  stopAll('error');
});
