import {
  type CommandOutcome,
  DEFINITE_FAILURES,
  type FinalRead,
  type Grant,
  type HistoryEntry,
  type PutFail,
  type SampledPartition,
  type PutInvoke,
  type PutOk,
} from './history';

/** RELIABILITY.md's checkers C1–C6, pure functions over a recorded history. */
export type CheckerName = 'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6';

export interface Violation {
  checker: CheckerName;
  message: string;
}

const partitionKey = (resource: string, partition: number) => `${resource}/${partition}`;

function byType<T extends HistoryEntry['type']>(
  history: readonly HistoryEntry[],
  type: T,
): Extract<HistoryEntry, { type: T }>[] {
  return history.filter((e): e is Extract<HistoryEntry, { type: T }> => e.type === type);
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The last final read of each key. */
function readsByKey(history: readonly HistoryEntry[]): Map<string, FinalRead> {
  return new Map(byType(history, 'read').map((r) => [r.key, r]));
}

function invokesById(history: readonly HistoryEntry[]): Map<number, PutInvoke> {
  return new Map(byType(history, 'invoke').map((i) => [i.id, i]));
}

/** C1: every acknowledged write is there after the faults (keys are written once each). */
export function checkNoLostWrites(history: readonly HistoryEntry[]): Violation[] {
  const invokes = invokesById(history);
  const reads = readsByKey(history);
  const acked = new Set(byType(history, 'ok').map((o) => o.id));
  const violations: Violation[] = [];
  for (const id of acked) {
    const put = invokes.get(id);
    if (!put) continue;
    const read = reads.get(put.key);
    if (!read)
      violations.push({
        checker: 'C1',
        message: `put #${id} (${put.key}) was acknowledged but never read back`,
      });
    else if (read.value !== put.value) {
      violations.push({
        checker: 'C1',
        message: `put #${id} of ${put.key} on ${partitionKey(put.resource, put.partition)} was acknowledged, but the leader at epoch ${read.epoch} has ${JSON.stringify(read.value)}`,
      });
    }
  }
  return violations;
}

/** C2: a write refused with a definite failure (and never acknowledged) is not visible. */
export function checkNoFailedWriteVisible(history: readonly HistoryEntry[]): Violation[] {
  const invokes = invokesById(history);
  const reads = readsByKey(history);
  const replies = groupBy(
    history.filter((e): e is PutOk | PutFail => e.type === 'ok' || e.type === 'fail'),
    (e) => e.id,
  );
  const violations: Violation[] = [];
  for (const [id, list] of replies) {
    if (!list.every((r) => r.type === 'fail' && r.definite)) continue;
    const put = invokes.get(id);
    const read = put && reads.get(put.key);
    if (put && read && read.value === put.value) {
      const codes = [...new Set(list.map((r) => (r.type === 'fail' ? r.code : 'ok')))].join(',');
      violations.push({
        checker: 'C2',
        message: `put #${id} of ${put.key} failed (${codes}) yet is visible at epoch ${read.epoch}`,
      });
    }
  }
  return violations;
}

/** C3: no two acknowledged writes of one partition got the same offset. */
export function checkNoDuplicateOffsets(history: readonly HistoryEntry[]): Violation[] {
  const invokes = invokesById(history);
  const owners = new Map<string, Set<number>>();
  for (const ok of byType(history, 'ok')) {
    const put = invokes.get(ok.id);
    if (!put) continue;
    const k = `${partitionKey(put.resource, put.partition)}@${ok.offset}`;
    const ids = owners.get(k) ?? new Set<number>();
    ids.add(ok.id);
    owners.set(k, ids);
  }
  return [...owners]
    .filter(([, ids]) => ids.size > 1)
    .map(([k, ids]) => ({
      checker: 'C3' as const,
      message: `offset ${k} acknowledged to puts ${[...ids].map((i) => `#${i}`).join(', ')}`,
    }));
}

/**
 * C4: at most one leader per (partition, epoch) in every grant seen, and along the map versions a
 * partition's epoch never goes down.
 */
export function checkLeaderGrants(history: readonly HistoryEntry[]): Violation[] {
  const unique = [...new Map(byType(history, 'grant').map((g) => [g.eventId, g])).values()];
  const violations: Violation[] = [];
  for (const [k, grants] of groupBy(unique, (g) => partitionKey(g.resource, g.partition))) {
    for (const [epoch, same] of groupBy(grants, (g) => g.epoch)) {
      const leaders = new Set(same.map((g) => g.leader).filter((l): l is string => l !== null));
      if (leaders.size > 1)
        violations.push({
          checker: 'C4',
          message: `${k} epoch ${epoch} has leaders ${[...leaders].sort().join(' and ')}`,
        });
    }
    const ordered = [...grants].sort((a, b) => a.version - b.version || a.t - b.t);
    let previous: Grant | null = null;
    for (const g of ordered) {
      if (previous && g.version > previous.version && g.epoch < previous.epoch) {
        violations.push({
          checker: 'C4',
          message: `${k}: epoch went down from ${previous.epoch} (map v${previous.version}) to ${g.epoch} (map v${g.version})`,
        });
      }
      if (!previous || g.version >= previous.version) previous = g;
    }
  }
  return violations;
}

/**
 * C5: nothing is accepted with an epoch below the highest seen — no role assignment a node
 * accepted after a higher one, and no write acknowledged with an epoch below a leader grant the
 * client had already seen when it sent the write (a zombie leader's write). Not "seen when the
 * acknowledgement arrived": an old leader may commit a write on every ISR member (the new leader
 * included) just before it hears of a leader move, and its reply, on another connection than the
 * grant event, can arrive after the event (seen in S19, with a drain moving leadership). Whether
 * such a write survived is C1's business.
 */
export function checkStaleAccepts(history: readonly HistoryEntry[]): Violation[] {
  const violations: Violation[] = [];
  const commands = [...byType(history, 'command')].sort((a, b) => a.t - b.t);
  for (const [k, list] of groupBy(
    commands,
    (c: CommandOutcome) => `${c.nodeId} ${partitionKey(c.resource, c.partition)}`,
  )) {
    let highest: bigint | null = null;
    for (const c of list) {
      if (c.outcome !== 'accepted') continue;
      const epoch = BigInt(c.epoch);
      if (highest !== null && epoch < highest) {
        violations.push({
          checker: 'C5',
          message: `${k}: accepted ${c.role}@${c.epoch}${c.replayed ? ' (replayed)' : ''} after epoch ${highest}`,
        });
      }
      if (highest === null || epoch > highest) highest = epoch;
    }
  }
  const invokes = invokesById(history);
  const grants = groupBy(
    [...byType(history, 'grant')].sort((a, b) => a.t - b.t),
    (g) => partitionKey(g.resource, g.partition),
  );
  for (const ok of byType(history, 'ok')) {
    const put = invokes.get(ok.id);
    if (!put) continue;
    const seen = (grants.get(partitionKey(put.resource, put.partition)) ?? []).filter(
      (g) => g.t < put.t,
    );
    const highest = seen.reduce((max, g) => Math.max(max, g.epoch), 0);
    if (BigInt(ok.epoch) < BigInt(highest)) {
      violations.push({
        checker: 'C5',
        message: `put #${ok.id} on ${partitionKey(put.resource, put.partition)} sent after epoch ${highest} was granted, acknowledged at epoch ${ok.epoch}`,
      });
    }
  }
  return violations;
}

/** Every checker that applies to a scenario with client writes, leader grants and commands. */
export function checkAll(history: readonly HistoryEntry[]): Violation[] {
  return [
    ...checkNoLostWrites(history),
    ...checkNoFailedWriteVisible(history),
    ...checkNoDuplicateOffsets(history),
    ...checkLeaderGrants(history),
    ...checkStaleAccepts(history),
  ];
}

/** What C6 expects of one resource once the faults healed. */
export interface ConvergenceSpec {
  resource: string;
  /** When the last fault healed (the last restart; or the faults themselves when nothing heals). */
  since: number;
  withinMs: number;
  replicationFactor: number;
  /** Nodes that must hold no replica by then (dead for good, drained). */
  excluded?: readonly string[];
}

/**
 * Why a partition is not converged — led by an in-sync replica, `rf` distinct replicas, every one
 * in sync, none on an excluded node — or null when it is.
 */
export function unconverged(
  p: SampledPartition,
  rf: number,
  excluded: readonly string[] = [],
): string | null {
  const replicas = new Set(p.replicas);
  const gone = p.replicas.filter((n) => excluded.includes(n));
  if (p.leader === null) return 'no leader';
  if (!p.isr.includes(p.leader)) return `leader ${p.leader} not in the ISR [${p.isr.join(',')}]`;
  if (gone.length > 0) return `replicas on ${gone.join(',')} [${p.replicas.join(',')}]`;
  if (replicas.size !== rf || p.replicas.length !== rf)
    return `replicas [${p.replicas.join(',')}], not ${rf}`;
  if (p.isr.length !== replicas.size || !p.isr.every((n) => replicas.has(n)))
    return `ISR [${p.isr.join(',')}] short of replicas [${p.replicas.join(',')}]`;
  return null;
}

function samplesSince(history: readonly HistoryEntry[], spec: ConvergenceSpec) {
  return byType(history, 'map')
    .filter((m) => m.resource === spec.resource && m.t >= spec.since)
    .sort((a, b) => a.t - b.t);
}

/** The time of the first map sample from `since` on in which every partition is converged, or null. */
export function convergedAt(
  history: readonly HistoryEntry[],
  spec: ConvergenceSpec,
): number | null {
  const first = samplesSince(history, spec).find(
    (m) =>
      m.partitions.length > 0 &&
      m.partitions.every((p) => unconverged(p, spec.replicationFactor, spec.excluded) === null),
  );
  return first?.t ?? null;
}

/**
 * C6: within `withinMs` of the heal, a map sample shows every partition of the resource led, with
 * its full replication factor in sync, on none of the excluded nodes.
 */
export function checkConvergence(
  history: readonly HistoryEntry[],
  spec: ConvergenceSpec,
): Violation[] {
  const at = convergedAt(history, spec);
  const deadline = spec.since + spec.withinMs;
  if (at !== null && at <= deadline) return [];
  const window = samplesSince(history, spec).filter((m) => m.t <= deadline);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const last = window.at(-1);
  if (!last)
    return [
      {
        checker: 'C6',
        message: `no map of ${spec.resource} sampled in the ${seconds(spec.withinMs)} after the heal`,
      },
    ];
  const stuck = last.partitions
    .map((p) => [p.partition, unconverged(p, spec.replicationFactor, spec.excluded)] as const)
    .filter((x): x is readonly [number, string] => x[1] !== null);
  const later = at === null ? 'and not since' : `(only ${seconds(at - spec.since)} after it)`;
  return [
    {
      checker: 'C6',
      message:
        `${spec.resource} not converged ${seconds(spec.withinMs)} after the heal ${later}: ` +
        (last.partitions.length === 0
          ? 'no partitions in the map'
          : stuck.map(([p, why]) => `${spec.resource}/${p} ${why}`).join('; ')),
    },
  ];
}

export function isDefiniteFailure(code: string): boolean {
  return DEFINITE_FAILURES.includes(code);
}
