import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@tessera/service-kit';

/** A data directory this process holds: released at shutdown. */
export interface DataDirClaim {
  dir: string;
  release(): void;
}

const IDENTITY_FILE = 'node.json';
const LOCK_FILE = 'LOCK';

function bad(dir: string, problem: string): ConfigError {
  return new ConfigError(`invalid environment: KV_DATA_DIR: ${problem} (got "${dir}")`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeDurably(path: string, text: string): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, text);
  const fd = openSync(temp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/**
 * Creates the data directory if needed and claims it for this node: the directory remembers the
 * node id it belongs to (its epochs and data are that node's, never another's), and a lock file
 * with our PID stops a second live process from sharing it. A lock left by a dead process
 * (SIGKILL) is taken over.
 */
export function claimDataDir(dir: string, nodeId: string): DataDirClaim {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw bad(dir, `cannot create it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }

  const identityPath = join(dir, IDENTITY_FILE);
  let owner: string | null = null;
  try {
    owner = (JSON.parse(readFileSync(identityPath, 'utf8')) as { nodeId?: unknown })
      .nodeId as string;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw bad(dir, `${IDENTITY_FILE} is unreadable`);
  }
  if (owner !== null && owner !== nodeId) {
    throw bad(dir, `it belongs to node "${String(owner)}", not "${nodeId}"`);
  }

  const lockPath = join(dir, LOCK_FILE);
  try {
    const holder = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw bad(dir, `in use by process ${holder} (remove ${lockPath} if no kv-node runs there)`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw bad(dir, `cannot read ${LOCK_FILE}`);
  }
  try {
    writeDurably(lockPath, `${process.pid}\n`);
    if (owner === null) writeDurably(identityPath, JSON.stringify({ nodeId }) + '\n');
  } catch (error) {
    throw bad(dir, `not writable: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }

  let released = false;
  return {
    dir,
    release: () => {
      if (released) return;
      released = true;
      rmSync(lockPath, { force: true });
    },
  };
}

/** Injection token of the DataDirClaim main() took before booting. */
export const DATA_DIR_CLAIM = Symbol('DATA_DIR_CLAIM');
