#!/usr/bin/env node
// `npm run ensure`: makes this machine able to build and run Tessera — npm dependencies,
// Postgres and NATS running (installed from Debian packages when absent and we are root), and
// the database created. Idempotent and quick when everything is already there, so `npm run up`
// and `npm test` both start with it. Only Node built-ins until node_modules exist.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tessera';
const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
const PG_CTLCLUSTER = '/usr/bin/pg_ctlcluster';
const NATS_SERVER = '/usr/sbin/nats-server';
// The dashboard's end-to-end test drives Debian's chromium through playwright-core.
const DEFAULT_CHROMIUM = '/usr/bin/chromium';
// The clock-skew fault test (RELIABILITY S15) steps processes' wall clocks through libfaketime.
const DEFAULT_LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const SERVICE_DEADLINE_MS = 60_000;

const log = (message) => console.log(`[ensure] ${message}`);

class EnsureError extends Error {
  constructor(message) {
    super(message);
    this.name = 'EnsureError';
  }
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw new EnsureError(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    throw new EnsureError(
      `\`${[command, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal})`,
    );
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const isLocalHost = (host) => ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(host);

function canConnect(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(name, host, port, deadlineMs = SERVICE_DEADLINE_MS) {
  const deadline = Date.now() + deadlineMs;
  while (!(await canConnect(host, port))) {
    if (Date.now() > deadline) {
      throw new EnsureError(
        `${name} is not accepting connections on ${host}:${port} after ${deadlineMs / 1000} s`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Endpoints to check, from the same variables the services read (API.md). */
function endpoints(env = process.env) {
  let db;
  try {
    db = new URL(env.TESSERA_DATABASE_URL || DEFAULT_DATABASE_URL);
  } catch {
    throw new EnsureError('TESSERA_DATABASE_URL is not a valid URL');
  }
  // NATS: the first server of a comma-separated list; a bare host:port is allowed.
  const firstNats = (env.TESSERA_NATS_URL || DEFAULT_NATS_URL).split(',')[0].trim();
  let nats;
  try {
    nats = new URL(firstNats.includes('://') ? firstNats : `nats://${firstNats}`);
  } catch {
    throw new EnsureError('TESSERA_NATS_URL is not a valid URL');
  }
  return {
    databaseUrl: db,
    pg: { host: db.hostname || '127.0.0.1', port: Number(db.port || 5432) },
    database: decodeURIComponent(db.pathname.replace(/^\//, '')) || 'tessera',
    nats: { host: nats.hostname || '127.0.0.1', port: Number(nats.port || 4222) },
  };
}

function ensureNodeModules() {
  // npm writes node_modules/.package-lock.json at the end of every successful install.
  if (fs.existsSync(path.join(ROOT, 'node_modules', '.package-lock.json'))) {
    log('npm dependencies: ok');
    return;
  }
  log('npm dependencies missing: npm ci');
  run('npm', ['ci']);
}

let aptUpdated = false;
function aptInstall(pkg, why) {
  if (!isRoot()) {
    throw new EnsureError(
      `${why}: install it (e.g. \`sudo apt-get install -y ${pkg}\`) and run this again`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    run('apt-get', ['-q', 'update'], { env });
    aptUpdated = true;
  }
  log(`apt-get install ${pkg}`);
  run('apt-get', ['install', '-y', '-q', pkg], { env });
}

/** Highest installed Postgres major version that has a `main` cluster. */
function postgresCluster() {
  const root = '/etc/postgresql';
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'main')))
    : [];
  if (versions.length === 0)
    throw new EnsureError(`no Postgres cluster found under ${root}/<version>/main`);
  return versions.sort((a, b) => Number(b) - Number(a))[0];
}

/**
 * A freshly installed Debian Postgres asks for passwords on TCP; the default
 * TESSERA_DATABASE_URL has none, so loopback connections are trusted (a dev machine only:
 * we do this solely right after installing Postgres ourselves).
 */
function trustLoopback(version) {
  const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
  const text = fs.readFileSync(hba, 'utf8');
  const updated = text.replace(
    /^(host\s+all\s+all\s+(?:127\.0\.0\.1\/32|::1\/128)\s+)\S+/gm,
    '$1trust',
  );
  if (updated !== text) {
    fs.writeFileSync(hba, updated);
    log(`${hba}: loopback connections trusted`);
  }
}

async function ensurePostgres({ host, port }) {
  if (await canConnect(host, port)) {
    log(`postgres ${host}:${port}: ok`);
    return;
  }
  if (!isLocalHost(host)) {
    log(`postgres ${host}:${port} is remote: waiting for it`);
    await waitForPort('Postgres', host, port);
    return;
  }
  if (!fs.existsSync(PG_CTLCLUSTER)) {
    aptInstall('postgresql', 'Postgres is not installed');
    trustLoopback(postgresCluster());
    // Debian's postinst may already have started it.
    if (await canConnect(host, port)) {
      const version = postgresCluster();
      run(PG_CTLCLUSTER, ['--skip-systemctl-redirect', version, 'main', 'reload']);
    }
  }
  if (!(await canConnect(host, port))) {
    const version = postgresCluster();
    log(`starting postgres ${version}/main`);
    run(PG_CTLCLUSTER, ['--skip-systemctl-redirect', version, 'main', 'start']);
  }
  await waitForPort('Postgres', host, port);
  log(`postgres ${host}:${port}: ok`);
}

async function ensureNats({ host, port }) {
  if (await canConnect(host, port)) {
    log(`nats ${host}:${port}: ok`);
    return;
  }
  if (!isLocalHost(host)) {
    log(`nats ${host}:${port} is remote: waiting for it`);
    await waitForPort('NATS', host, port);
    return;
  }
  if (!fs.existsSync(NATS_SERVER)) aptInstall('nats-server', 'nats-server is not installed');
  if (!isRoot()) {
    throw new EnsureError(
      `NATS is not running on ${host}:${port}: start it with \`${NATS_SERVER} -a 127.0.0.1 -p ${port} -js\``,
    );
  }
  log(`starting nats-server on 127.0.0.1:${port} (JetStream on)`);
  fs.mkdirSync('/var/lib/nats-server', { recursive: true });
  // start-stop-daemon detaches it from us, so it outlives `npm run up` like the Postgres server does.
  run('start-stop-daemon', [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    NATS_SERVER,
    '--',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-js',
    '-sd',
    '/var/lib/nats-server',
    '-l',
    '/var/log/nats-server.log',
  ]);
  await waitForPort('NATS', host, port);
  log(`nats ${host}:${port}: ok`);
}

/**
 * A file a Debian package brings that only the test suite needs (chromium for the dashboard
 * test, libfaketime for the clock-skew test): installed when we are root, else we only say how.
 */
function ensureTestPackage(pkg, file, neededBy) {
  if (fs.existsSync(file)) {
    log(`${pkg} ${file}: ok`);
    return;
  }
  if (!isRoot()) {
    log(`${pkg} missing (${file}): ${neededBy} needs \`sudo apt-get install -y ${pkg}\``);
    return;
  }
  aptInstall(pkg, `${pkg} is not installed`);
  log(`${pkg} ${file}: ok`);
}

/** Creates the database named in the URL if missing, through the `pg` package (now installed). */
async function ensureDatabase(databaseUrl, database) {
  const { Client } = require('pg');
  const adminUrl = new URL(databaseUrl.href);
  adminUrl.pathname = '/postgres';
  const deadline = Date.now() + SERVICE_DEADLINE_MS;
  // The port can open before the server accepts queries ("the database system is starting up").
  for (;;) {
    const client = new Client({ connectionString: adminUrl.href });
    try {
      await client.connect();
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        database,
      ]);
      if (rowCount === 0) {
        await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
        log(`database ${database}: created`);
      } else {
        log(`database ${database}: ok`);
      }
      return;
    } catch (error) {
      // 42P04: created concurrently by someone else — fine.
      if (error && error.code === '42P04') return;
      const retryable =
        error && (error.code === '57P03' || ['ECONNREFUSED', 'ECONNRESET'].includes(error.code));
      if (!retryable || Date.now() > deadline) {
        throw new EnsureError(
          `cannot create database ${database} on ${adminUrl.host}: ${error.message}`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** `tests`: also what only the test suite needs (a browser, libfaketime). */
async function ensure(env = process.env, { tests = true } = {}) {
  const started = Date.now();
  const target = endpoints(env);
  ensureNodeModules();
  await ensurePostgres(target.pg);
  await ensureNats(target.nats);
  await ensureDatabase(target.databaseUrl, target.database);
  if (tests) {
    ensureTestPackage(
      'chromium',
      env.TESSERA_CHROMIUM || DEFAULT_CHROMIUM,
      'the dashboard e2e test',
    );
    ensureTestPackage(
      'libfaketime',
      env.TESSERA_LIBFAKETIME || DEFAULT_LIBFAKETIME,
      'the clock-skew e2e test',
    );
  }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

module.exports = { ensure, EnsureError };

if (require.main === module) {
  ensure().catch((error) => {
    console.error(`[ensure] ${error instanceof EnsureError ? error.message : error.stack}`);
    process.exit(1);
  });
}
