import type { MigrationStep, PartitionMigration, ThrottleLimits } from './types';

export const DEFAULT_THROTTLE: ThrottleLimits = { maxMovesPerNode: 2, maxMovesPerCluster: 64 };

/** Same preferred leader and same replica set (RF is small: a nested scan beats building sets). */
function sameReplicas(from: readonly string[], to: readonly string[]): boolean {
  if (from.length !== to.length || from[0] !== to[0]) return false;
  for (const id of to) if (!from.includes(id)) return false;
  return true;
}

/**
 * Make-before-break steps for one partition: every new replica is added and caught up before
 * leadership moves, and old replicas go last, so the partition never has fewer than RF in-sync
 * replicas because of the plan itself.
 */
export function migrationFor(
  resource: string,
  partition: number,
  from: readonly string[],
  to: readonly string[],
): PartitionMigration | undefined {
  if (sameReplicas(from, to)) return undefined;
  const before = new Set(from);
  const after = new Set(to);
  const added = to.filter((id) => !before.has(id));
  const removed = from.filter((id) => !after.has(id));
  const leaderChanged = from[0] !== to[0];
  if (added.length === 0 && removed.length === 0 && !leaderChanged) return undefined;

  const steps: MigrationStep[] = [];
  for (const node of added) steps.push({ kind: 'ADD_REPLICA', node });
  for (const node of added) steps.push({ kind: 'WAIT_IN_SYNC', node });
  if (leaderChanged && to[0] !== undefined) {
    steps.push(
      from[0] === undefined
        ? { kind: 'MOVE_LEADERSHIP', node: to[0] }
        : { kind: 'MOVE_LEADERSHIP', node: to[0], from: from[0] },
    );
  }
  for (const node of removed) steps.push({ kind: 'REMOVE_REPLICA', node });

  const nodes = new Set([...added, ...removed]);
  if (leaderChanged) {
    if (from[0] !== undefined) nodes.add(from[0]);
    if (to[0] !== undefined) nodes.add(to[0]);
  }
  return {
    resource,
    partition,
    from: [...from],
    to: [...to],
    added,
    removed,
    leaderChanged,
    steps,
    nodes: [...nodes],
    wave: -1,
  };
}

/**
 * Groups migrations into waves: each wave holds at most maxMovesPerCluster migrations and counts
 * each node at most maxMovesPerNode times. Greedy in migration order; a node's cursor only moves
 * forward, so this is linear in the number of migrations.
 */
export function groupIntoWaves(
  migrations: PartitionMigration[],
  limits: ThrottleLimits,
): number[][] {
  const perNode = Math.max(1, Math.floor(limits.maxMovesPerNode));
  const perCluster = Math.max(1, Math.floor(limits.maxMovesPerCluster));
  const cursor = new Map<string, { wave: number; used: number }>();
  const waves: number[][] = [];
  migrations.forEach((migration, index) => {
    let wave = 0;
    for (const node of migration.nodes) wave = Math.max(wave, cursor.get(node)?.wave ?? 0);
    while ((waves[wave]?.length ?? 0) >= perCluster) wave++;
    for (const node of migration.nodes) {
      const c = cursor.get(node);
      const used = c !== undefined && c.wave === wave ? c.used + 1 : 1;
      cursor.set(node, used >= perNode ? { wave: wave + 1, used: 0 } : { wave, used });
    }
    (waves[wave] ??= []).push(index);
    migration.wave = wave;
  });
  // A skipped wave index can stay empty only if all its would-be members went later; compact.
  const compact = waves.filter((w) => w !== undefined && w.length > 0);
  compact.forEach((members, w) => members.forEach((i) => (migrations[i].wave = w)));
  return compact;
}
