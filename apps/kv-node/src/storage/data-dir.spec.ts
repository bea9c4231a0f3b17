import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@tessera/service-kit';
import { claimDataDir } from './data-dir';

describe(claimDataDir.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'tessera-claim-')), 'kv');
  });

  afterEach(() => {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('creates the directory, records the owner and holds a lock until released', () => {
    const sut = claimDataDir(dir, 'kv-a');
    expect(JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8'))).toEqual({ nodeId: 'kv-a' });
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    sut.release();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    expect(() => claimDataDir(dir, 'kv-a').release()).not.toThrow();
  });

  it('refuses a directory that belongs to another node, naming KV_DATA_DIR', () => {
    claimDataDir(dir, 'kv-a').release();
    expect(() => claimDataDir(dir, 'kv-b')).toThrow(ConfigError);
    expect(() => claimDataDir(dir, 'kv-b')).toThrow(
      /^invalid environment: KV_DATA_DIR: it belongs to node "kv-a"/,
    );
  });

  it('refuses a directory locked by a live process and takes over a dead one’s lock', () => {
    claimDataDir(dir, 'kv-a').release();
    writeFileSync(join(dir, 'LOCK'), `${process.ppid}\n`);
    expect(() => claimDataDir(dir, 'kv-a')).toThrow(/in use by process/);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(join(dir, 'LOCK'), `${dead}\n`);
    expect(() => claimDataDir(dir, 'kv-a')).not.toThrow();
  });
});
