import { readdirSync, readFileSync } from 'node:fs';
import { type TestCluster } from '../cluster';

/** What one process holds, read from /proc: resident memory and open file descriptors. */
export interface ProcessUsage {
  name: string;
  rssMiB: number;
  fds: number;
}

/** Reads /proc/<pid> (Linux); a process that is gone reads as 0 / 0. */
export function processUsage(name: string, pid: number): ProcessUsage {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    return {
      name,
      rssMiB: Math.round(rssKiB / 102.4) / 10,
      fds: readdirSync(`/proc/${pid}/fd`).length,
    };
  } catch {
    return { name, rssMiB: 0, fds: 0 };
  }
}

/** Every service instance and kv-node of the cluster, by name. */
export function fleetUsage(cluster: TestCluster): ProcessUsage[] {
  return [...[...cluster.instances.values()].map((i) => i.proc), ...cluster.nodes.values()].map(
    (p) => processUsage(p.name, p.pid),
  );
}
