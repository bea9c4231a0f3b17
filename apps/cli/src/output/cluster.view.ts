import type { MapResourceV1, NodeViewV1 } from '@tessera/contracts';
import { type ClusterStatus, NODE_STATE_ORDER, partitionStateOf } from '../cluster/cluster-health';
import { operationLine } from './operation.view';
import { renderFields, renderTable } from './table';
import { formatAge } from './time';

export function statusView(status: ClusterStatus, now: number): string {
  const states = NODE_STATE_ORDER.filter((state) => status.nodes.byState[state] > 0)
    .map((state) => `${status.nodes.byState[state]} ${state}`)
    .join(', ');
  const { total, led, underReplicated, offline } = status.partitions;
  const lines = [
    renderFields([
      ['Coordinator', `${status.apiUrl} (map version ${status.mapVersion})`],
      ['Health', status.healthy ? 'healthy' : 'DEGRADED'],
      ['Nodes', `${status.nodes.total} total${states ? `: ${states}` : ''}`],
      ['Resources', status.resources],
      [
        'Partitions',
        `${total} total: ${led} led, ${underReplicated} under-replicated, ${offline} offline`,
      ],
      ['Operations', `${status.operations.running} running`],
    ]),
  ];
  for (const operation of status.operations.items) lines.push(`  ${operationLine(operation, now)}`);
  return lines.join('\n');
}

export function nodesView(nodes: NodeViewV1[], now: number): string {
  if (nodes.length === 0) return 'No nodes have registered yet.';
  const sorted = [...nodes].sort((a, b) => a.id.localeCompare(b.id));
  return renderTable(
    ['node', 'state', 'zone', 'rack', 'capacity', 'tags', 'last heartbeat'],
    sorted.map((node) => [
      node.id,
      node.state,
      node.zone || '-',
      node.rack || '-',
      node.capacity,
      node.tags.length > 0 ? node.tags.join(',') : '-',
      formatAge(node.lastHeartbeatAt, now),
    ]),
    ['left', 'left', 'left', 'left', 'right'],
  );
}

/** One resource's partitions: who leads, at which epoch, who is in sync. */
export function partitionsTable(resource: MapResourceV1): string {
  if (resource.partitions.length === 0) return '(no partitions placed yet)';
  const sorted = [...resource.partitions].sort((a, b) => a.partition - b.partition);
  return renderTable(
    ['partition', 'leader', 'epoch', 'replicas', 'isr', 'state'],
    sorted.map((p) => [
      p.partition,
      p.leader ?? '-',
      p.epoch,
      p.replicas.join(',') || '-',
      p.isr.join(',') || '-',
      partitionStateOf(p),
    ]),
    ['right', 'left', 'right'],
  );
}

export function mapView(resources: MapResourceV1[], version: number): string {
  if (resources.length === 0) return `Map version ${version}: no resources.`;
  const sections = [...resources]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(
      (resource) =>
        `${resource.name} (${resource.partitionCount} partition${resource.partitionCount === 1 ? '' : 's'})\n${partitionsTable(resource)}`,
    );
  return [`Map version ${version}`, ...sections].join('\n\n');
}
