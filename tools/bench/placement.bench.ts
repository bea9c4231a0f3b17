/**
 * Placement benchmark: Tessera's planner against the hash-based schemes users would otherwise
 * pick, side by side in one process. Prints a table and writes bench/results/placement.json.
 *
 *   npm run bench:placement
 *
 * Speed figures are wall-clock on this machine (median of several runs after a warm-up);
 * quality figures are exact. The CLI row times a whole `placement plan` process when the CLI is
 * built (dist/apps/cli/main.js).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { balanceStats, planPlacement, type PlacementNode } from '../../libs/placement/src';
import { baselines } from './placement/baselines';
import { heterogeneousNodes, PARTITIONS, referenceNodes, RF } from './placement/scenarios';

const RESOURCE = 'orders';
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);

interface Row {
  scenario: string;
  algorithm: string;
  computeMs: number;
  replicasMaxOverMean: number;
  leadersMaxOverMean: number;
  /** Largest |replicas − capacity-proportional share| on any node. */
  replicasMaxDeviation: number;
  moves?: number;
  minMoves?: number;
  leaderMoves?: number;
  minLeaderMoves?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `fn` RUNS times (plus one warm-up) and returns its last result and median time. */
function timed<T>(fn: () => T, runs = RUNS): { value: T; ms: number } {
  let value = fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    value = fn();
    times.push(performance.now() - t);
  }
  return { value, ms: median(times) };
}

function countMoves(before: string[][], after: string[][]): { moves: number; leaderMoves: number } {
  let moves = 0;
  let leaderMoves = 0;
  after.forEach((row, p) => {
    const old = before[p] ?? [];
    for (const id of row) if (!old.includes(id)) moves++;
    if (old[0] !== row[0]) leaderMoves++;
  });
  return { moves, leaderMoves };
}

function quality(assignment: Record<string, string[][]>, nodes: PlacementNode[]) {
  const stats = balanceStats(assignment, nodes);
  return {
    replicasMaxOverMean: stats.replicasMaxOverMean,
    leadersMaxOverMean: stats.leadersMaxOverMean,
    replicasMaxDeviation: stats.replicas.maxDeviation,
  };
}

const rows: Row[] = [];
const resources = [{ name: RESOURCE, partitions: PARTITIONS, replicationFactor: RF }];

// Full placement from scratch, for both clusters.
const scratch = new Map<string, Map<string, string[][]>>();
for (const [scenario, nodes] of [
  ['reference 100k×3 on 1000 nodes/10 zones', referenceNodes()],
  ['heterogeneous (cap 1/2/4, unequal zones)', heterogeneousNodes()],
] as const) {
  const byAlgo = new Map<string, string[][]>();
  const tessera = timed(() => planPlacement({ nodes, resources }));
  byAlgo.set('tessera', tessera.value.assignment[RESOURCE]);
  rows.push({
    scenario,
    algorithm: 'tessera',
    computeMs: tessera.ms,
    ...quality(tessera.value.assignment, nodes),
  });
  for (const b of baselines) {
    const r = timed(() => b.place(nodes, RESOURCE, PARTITIONS, RF), 1);
    byAlgo.set(b.name, r.value);
    rows.push({
      scenario,
      algorithm: b.name,
      computeMs: r.ms,
      ...quality({ [RESOURCE]: r.value }, nodes),
    });
  }
  scratch.set(scenario, byAlgo);
}

// Incremental changes on the reference cluster, each starting from that algorithm's own layout.
const reference = referenceNodes();
const referenceLayouts =
  scratch.get('reference 100k×3 on 1000 nodes/10 zones') ?? new Map<string, string[][]>();
const layoutOf = (algorithm: string): string[][] => {
  const layout = referenceLayouts.get(algorithm);
  if (layout === undefined) throw new Error(`no reference layout for ${algorithm}`);
  return layout;
};
const removed = reference[137].id;
const changes: {
  scenario: string;
  nodes: PlacementNode[];
  min: (before: string[][]) => [number, number];
}[] = [
  {
    scenario: 'add 1 node',
    nodes: [...reference, { id: 'node-1000', zone: 'zone-3', rack: 'rack-new' }],
    min: () => [Math.ceil((PARTITIONS * RF) / 1001), Math.ceil(PARTITIONS / 1001)],
  },
  {
    scenario: 'remove 1 node',
    nodes: reference.filter((n) => n.id !== removed),
    min: (before) => [
      before.filter((row) => row.includes(removed)).length,
      before.filter((row) => row[0] === removed).length,
    ],
  },
  {
    scenario: 'add 10 nodes (one per zone)',
    nodes: [
      ...reference,
      ...Array.from({ length: 10 }, (_, z) => ({
        id: `node-${1000 + z}`,
        zone: `zone-${z}`,
        rack: 'rack-new',
      })),
    ],
    min: () => [10 * Math.floor((PARTITIONS * RF) / 1010), 10 * Math.floor(PARTITIONS / 1010)],
  },
];
for (const change of changes) {
  const before = layoutOf('tessera');
  const t = timed(() =>
    planPlacement({ nodes: change.nodes, resources, current: { [RESOURCE]: before } }),
  );
  const [minMoves, minLeaderMoves] = change.min(before);
  rows.push({
    scenario: change.scenario,
    algorithm: 'tessera',
    computeMs: t.ms,
    ...quality(t.value.assignment, change.nodes),
    moves: t.value.moves,
    leaderMoves: t.value.leaderMoves,
    minMoves,
    minLeaderMoves,
  });
  for (const b of baselines) {
    const old = layoutOf(b.name);
    const r = timed(() => b.place(change.nodes, RESOURCE, PARTITIONS, RF), 1);
    const m = countMoves(old, r.value);
    const [bMin, bLeaderMin] = change.min(old);
    rows.push({
      scenario: change.scenario,
      algorithm: b.name,
      computeMs: r.ms,
      ...quality({ [RESOURCE]: r.value }, change.nodes),
      moves: m.moves,
      leaderMoves: m.leaderMoves,
      minMoves: bMin,
      minLeaderMoves: bLeaderMin,
    });
  }
}

// The whole CLI process on the reference input, when the CLI has been built.
const cli = join(process.cwd(), 'dist/apps/cli/main.js');
let cliProcess: { wallMs: number; peakRssMb: number } | string =
  'not measured: build the CLI first (nx build cli)';
if (existsSync(cli)) {
  const dir = join(tmpdir(), 'tessera-bench');
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'reference.json');
  writeFileSync(input, JSON.stringify({ nodes: reference, resources }));
  const walls: number[] = [];
  let peakKb = 0;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const run = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        process.execPath,
        cli,
        'placement',
        'plan',
        '--input',
        input,
        '--output',
        join(dir, 'out.json'),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (run.status !== 0) throw new Error(`CLI run failed: ${run.stderr}`);
    walls.push(performance.now() - t);
    peakKb = Math.max(peakKb, Number(run.stderr.trim().split('\n').at(-1)));
  }
  cliProcess = { wallMs: median(walls), peakRssMb: peakKb / 1024 };
}

const f2 = (x: number): string => x.toFixed(2);
const table = new Table({
  head: [
    'scenario',
    'algorithm',
    'ms',
    'replicas max/mean',
    'leaders max/mean',
    'max dev',
    'moves (min)',
    'moves/min',
    'leader moves (min)',
  ],
  style: { head: [], border: [] },
});
for (const r of rows) {
  table.push([
    r.scenario,
    r.algorithm,
    r.computeMs.toFixed(0),
    f2(r.replicasMaxOverMean),
    f2(r.leadersMaxOverMean),
    r.replicasMaxDeviation.toFixed(1),
    r.moves === undefined ? '' : `${r.moves} (${r.minMoves})`,
    r.moves === undefined || r.minMoves === undefined ? '' : f2(r.moves / r.minMoves),
    r.leaderMoves === undefined ? '' : `${r.leaderMoves} (${r.minLeaderMoves})`,
  ]);
}
const machine = `${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
console.log(table.toString());
console.log(`machine: ${machine}`);
console.log(
  typeof cliProcess === 'string'
    ? `CLI process: ${cliProcess}`
    : `CLI process (reference, plan + write OUT.json): ${cliProcess.wallMs.toFixed(0)} ms wall, peak RSS ${cliProcess.peakRssMb.toFixed(0)} MB`,
);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/placement.json',
  `${JSON.stringify({ machine, runs: RUNS, partitions: PARTITIONS, replicationFactor: RF, cliProcess, rows }, null, 2)}\n`,
);
console.log('wrote bench/results/placement.json');
