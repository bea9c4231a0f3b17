import type { BalanceStats, PlacementExplanation } from '@tessera/placement';
import { renderFields, renderTable } from '../output/table';

export interface PlanSummary {
  output: string;
  partitions: number;
  moves: number;
  leaderMoves: number;
  migrations: number;
  waves: number;
  elapsedMs: number;
  balance: BalanceStats;
  warnings: string[];
}

export function formatPlanSummary(s: PlanSummary): string {
  const fields = renderFields([
    ['output', s.output],
    ['partitions', s.partitions],
    ['replica moves', s.moves],
    ['leader moves', s.leaderMoves],
    ['migrations', `${s.migrations} in ${s.waves} waves`],
    ['replicas max/mean', s.balance.replicasMaxOverMean.toFixed(3)],
    ['leaders max/mean', s.balance.leadersMaxOverMean.toFixed(3)],
    ['elapsed', `${s.elapsedMs} ms`],
  ]);
  const warnings = s.warnings.map((w) => `warning: ${w}`);
  return [fields, ...warnings].join('\n');
}

export function formatExplanation(e: PlacementExplanation): string {
  const cap =
    e.perDomainCap === 1
      ? `one replica per ${e.spreadBy}`
      : `≤ ${e.perDomainCap} per ${e.spreadBy}`;
  const lines = [
    `${e.resource} partition ${e.partition}: RF ${e.replicationFactor}, spread by ${e.spreadBy} (${cap})`,
    `in force: ${e.current.length > 0 ? e.current.join(', ') : '(none)'}`,
    '',
    renderTable(
      ['role', 'node', 'domain', 'decision', 'replicas', 'target', 'leads', 'target'],
      e.replicas.map((r) => [
        r.role,
        r.node,
        r.domain,
        r.decision,
        r.replicas,
        `${r.replicaTarget[0]}-${r.replicaTarget[1]}`,
        r.leaders,
        `${r.leaderTarget[0]}-${r.leaderTarget[1]}`,
      ]),
      ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
    ),
    '',
  ];
  for (const r of e.replicas) {
    lines.push(`${r.node} (${r.role}):`);
    for (const reason of r.reasons) lines.push(`  - ${reason}`);
  }
  if (e.removed.length > 0) {
    lines.push('', 'removed:');
    for (const r of e.removed) lines.push(`  - ${r.node}: ${r.reason}`);
  }
  lines.push('', 'constraints met:');
  for (const c of e.constraints) lines.push(`  - ${c}`);
  if (e.avoided.length > 0) {
    lines.push('', 'avoided:');
    for (const a of e.avoided) lines.push(`  - ${a.reason}: ${a.nodes.join(', ')}`);
  }
  for (const w of e.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
