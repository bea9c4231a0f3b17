import type {
  NodeAdminReplyV1,
  PlanStepV1,
  RebalancePlanV1,
  ResourceDetailV1,
  ResourceViewV1,
} from '@tessera/contracts';
import { partitionsTable } from './cluster.view';
import { renderFields, renderTable } from './table';
import { formatAge } from './time';

function placementText(resource: ResourceViewV1): string {
  const tags = resource.placement.requireTags;
  const spread = `spread by ${resource.placement.spreadBy}`;
  return tags.length > 0 ? `${spread}, requires ${tags.join(', ')}` : spread;
}

function warningLines(warnings: string[]): string[] {
  return warnings.map((warning) => `warning: ${warning}`);
}

export function resourcesView(resources: ResourceViewV1[], now: number): string {
  if (resources.length === 0) return 'No resources.';
  return renderTable(
    ['name', 'partitions', 'rf', 'spread by', 'require tags', 'created'],
    [...resources]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => [
        r.name,
        r.partitions,
        r.replicationFactor,
        r.placement.spreadBy,
        r.placement.requireTags.join(',') || '-',
        formatAge(r.createdAt, now),
      ]),
    ['left', 'right', 'right'],
  );
}

export function resourceCreatedView(resource: ResourceViewV1): string {
  return [
    `Created resource ${resource.name}: ${resource.partitions} partitions, replication factor ` +
      `${resource.replicationFactor}, ${placementText(resource)}.`,
    ...warningLines(resource.warnings),
  ].join('\n');
}

export function resourceDetailView(resource: ResourceDetailV1, now: number): string {
  return [
    renderFields([
      ['Name', resource.name],
      ['State', resource.state],
      ['Partitions', resource.partitions],
      ['Replication', resource.replicationFactor],
      ['Placement', placementText(resource)],
      ['Created', `${resource.createdAt} (${formatAge(resource.createdAt, now)})`],
      [
        'Health',
        `${resource.partitionsLed} led, ${resource.underReplicated} under-replicated, ${resource.offline} offline`,
      ],
    ]),
    ...warningLines(resource.warnings),
    '',
    partitionsTable(resource.map),
  ].join('\n');
}

interface PartitionMoves {
  partition: number;
  added: string[];
  removed: string[];
  leader: string;
  steps: number;
}

/** Steps grouped by partition: one row says what happens to it, in the order it happens. */
export function movesByPartition(steps: PlanStepV1[]): PartitionMoves[] {
  const rows = new Map<number, PartitionMoves>();
  for (const step of steps) {
    let row = rows.get(step.partition);
    if (!row) {
      row = { partition: step.partition, added: [], removed: [], leader: '', steps: 0 };
      rows.set(step.partition, row);
    }
    row.steps++;
    switch (step.kind) {
      case 'ADD_REPLICA':
        row.added.push(step.node);
        break;
      case 'REMOVE_REPLICA':
        row.removed.push(step.node);
        break;
      case 'MOVE_LEADERSHIP':
        row.leader = `${step.from ?? '?'} -> ${step.node}`;
        break;
      case 'WAIT_IN_SYNC':
        break;
    }
  }
  return [...rows.values()].sort((a, b) => a.partition - b.partition);
}

function ratio(value: number): string {
  return value.toFixed(2);
}

export function planView(plan: RebalancePlanV1): string {
  const title = plan.dryRun
    ? `Rebalance plan for ${plan.resource} (dry run: nothing was changed)`
    : `Rebalance of ${plan.resource}`;
  const counts = new Map<PlanStepV1['kind'], number>();
  for (const step of plan.steps) counts.set(step.kind, (counts.get(step.kind) ?? 0) + 1);
  const stepSummary = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ');

  const lines = [
    title,
    renderFields([
      ['Replica moves', plan.moves],
      ['Leader moves', plan.leaderMoves],
      ['Steps', plan.steps.length > 0 ? `${plan.steps.length} (${stepSummary})` : '0'],
    ]),
    '',
    renderTable(
      ['balance (max/mean)', 'before', 'after'],
      [
        [
          'replicas per node',
          ratio(plan.before.replicasMaxOverMean),
          ratio(plan.after.replicasMaxOverMean),
        ],
        [
          'leaders per node',
          ratio(plan.before.leadersMaxOverMean),
          ratio(plan.after.leadersMaxOverMean),
        ],
      ],
      ['left', 'right', 'right'],
    ),
    '',
  ];
  if (plan.steps.length === 0) {
    lines.push('Already balanced: nothing to move.');
  } else {
    lines.push(
      renderTable(
        ['partition', 'add', 'remove', 'leader', 'steps'],
        movesByPartition(plan.steps).map((row) => [
          row.partition,
          row.added.join(',') || '-',
          row.removed.join(',') || '-',
          row.leader || '-',
          row.steps,
        ]),
        ['right', 'left', 'left', 'left', 'right'],
      ),
    );
  }
  lines.push(...warningLines(plan.warnings));
  if (!plan.dryRun && plan.operationId) {
    lines.push(
      '',
      `Started operation ${plan.operationId}; follow it with: tessera operations --watch`,
    );
  }
  return lines.join('\n');
}

export function drainView(reply: NodeAdminReplyV1): string {
  const head = `Node ${reply.node.id} is ${reply.node.state}.`;
  return reply.operationId
    ? `${head} Operation ${reply.operationId} moves its replicas away; follow it with: tessera operations --watch`
    : `${head} It holds no replicas: nothing to move.`;
}
