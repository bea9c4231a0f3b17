/**
 * Background load for the detector soak, each in a process of its own (killable by PID): CPU
 * burners that busy-loop, and a loop that plans a 100,000-partition placement over and over.
 *
 *   SOAK_LOAD=placement node tools/scripts/ts-run.js tools/bench/detector-soak/load.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { planPlacement } from '@tessera/placement';
import { WORKSPACE_ROOT } from '@tessera/testing';
import { PARTITIONS, referenceNodes, RF } from '../placement/scenarios';

export interface LoadProcess {
  name: string;
  child: ChildProcess;
  /** Placements completed so far (the placement loop reports each one; 0 for a burner). */
  completed(): number;
  stop(): Promise<void>;
}

function track(name: string, child: ChildProcess): LoadProcess {
  let completed = 0;
  let lines = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    lines += chunk.toString();
    const parts = lines.split('\n');
    lines = parts.pop() ?? '';
    completed += parts.filter((l) => l.startsWith('placed ')).length;
  });
  child.stderr?.on('data', (chunk: Buffer) =>
    process.stderr.write(`[${name}] ${chunk.toString()}`),
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    completed: () => completed,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(child.pid, 'SIGKILL');
      await exited;
    },
  };
}

/** A process that keeps one core busy (a tight loop, no allocation). */
export function startBurner(index: number): LoadProcess {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(`burner-${index}`, child);
}

/** A process planning a 100,000-partition × RF 3 placement on 1,000 nodes, again and again. */
export function startPlacementLoop(): LoadProcess {
  const child = spawn(
    process.execPath,
    [join(WORKSPACE_ROOT, 'tools/scripts/ts-run.js'), join(__dirname, 'load.ts')],
    {
      cwd: WORKSPACE_ROOT,
      env: { ...process.env, SOAK_LOAD: 'placement' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return track('placement', child);
}

function placementLoop(): void {
  const nodes = referenceNodes();
  const resources = [{ name: 'soak', partitions: PARTITIONS, replicationFactor: RF }];
  for (;;) {
    const started = performance.now();
    planPlacement({ nodes, resources });
    process.stdout.write(`placed ${PARTITIONS} in ${Math.round(performance.now() - started)} ms\n`);
  }
}

if (process.env['SOAK_LOAD'] === 'placement') placementLoop();
