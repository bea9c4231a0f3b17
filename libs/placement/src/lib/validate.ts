import { PlacementError } from './placement-error';
import type { NodeState, PlacementInput, SpreadBy } from './types';

const NODE_STATES: readonly NodeState[] = ['ALIVE', 'SUSPECT', 'DEAD', 'DRAINING', 'LEFT'];
const SPREADS: readonly SpreadBy[] = ['zone', 'rack', 'none'];
/** Guards memory: P × RF slots are held in typed arrays. */
const MAX_SLOTS = 50_000_000;

/** A node with defaults applied. */
export interface NormalNode {
  id: string;
  zone: string | undefined;
  rack: string | undefined;
  capacity: number;
  tags: ReadonlySet<string>;
  state: NodeState;
  /** Position in the id-sorted node list: makes the plan independent of input order. */
  index: number;
}

export interface NormalResource {
  name: string;
  partitions: number;
  replicationFactor: number;
  spreadBy: SpreadBy;
  requireTags: string[];
}

export interface NormalInput {
  nodes: NormalNode[];
  nodeIndex: ReadonlyMap<string, number>;
  resources: NormalResource[];
  current: Readonly<Record<string, readonly (readonly string[])[]>>;
}

function invalid(constraint: string, message: string): PlacementError {
  return new PlacementError('INVALID_INPUT', constraint, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(where, `${where} must be a non-empty string`);
  }
  return value;
}

function stringArray(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((t): t is string => typeof t === 'string')) {
    throw invalid(where, `${where} must be an array of strings`);
  }
  return value;
}

function normalNode(raw: unknown, i: number): Omit<NormalNode, 'index'> {
  const where = `nodes[${i}]`;
  if (!isRecord(raw)) throw invalid(where, `${where} must be an object`);
  if (typeof raw['id'] !== 'string' || raw['id'].length === 0) {
    throw invalid(`${where}.id`, `${where}.id must be a non-empty string`);
  }
  const capacity = raw['capacity'] ?? 1;
  if (typeof capacity !== 'number' || !Number.isFinite(capacity) || capacity <= 0) {
    throw invalid(`${where}.capacity`, `${where}.capacity must be a finite number > 0`);
  }
  const state = raw['state'] ?? 'ALIVE';
  if (typeof state !== 'string' || !NODE_STATES.includes(state as NodeState)) {
    throw invalid(`${where}.state`, `${where}.state must be one of ${NODE_STATES.join(', ')}`);
  }
  return {
    id: raw['id'],
    zone: optionalString(raw['zone'], `${where}.zone`),
    rack: optionalString(raw['rack'], `${where}.rack`),
    capacity,
    tags: new Set(stringArray(raw['tags'], `${where}.tags`)),
    state: state as NodeState,
  };
}

function normalResource(raw: unknown, i: number): NormalResource {
  const where = `resources[${i}]`;
  if (!isRecord(raw)) throw invalid(where, `${where} must be an object`);
  const name = raw['name'];
  if (typeof name !== 'string' || name.length === 0) {
    throw invalid(`${where}.name`, `${where}.name must be a non-empty string`);
  }
  const partitions = raw['partitions'];
  if (typeof partitions !== 'number' || !Number.isInteger(partitions) || partitions < 1) {
    throw invalid(`${where}.partitions`, `${where}.partitions must be an integer >= 1`);
  }
  const rf = raw['replicationFactor'];
  if (typeof rf !== 'number' || !Number.isInteger(rf) || rf < 1) {
    throw invalid(
      `${where}.replicationFactor`,
      `${where}.replicationFactor must be an integer >= 1`,
    );
  }
  if (partitions * rf > MAX_SLOTS) {
    throw invalid(where, `${where}: partitions × replicationFactor exceeds ${MAX_SLOTS}`);
  }
  const rules = raw['placement'] ?? {};
  if (!isRecord(rules)) throw invalid(`${where}.placement`, `${where}.placement must be an object`);
  const spreadBy = rules['spreadBy'] ?? 'zone';
  if (typeof spreadBy !== 'string' || !SPREADS.includes(spreadBy as SpreadBy)) {
    throw invalid(
      `${where}.placement.spreadBy`,
      `${where}.placement.spreadBy must be one of ${SPREADS.join(', ')}`,
    );
  }
  return {
    name,
    partitions,
    replicationFactor: rf,
    spreadBy: spreadBy as SpreadBy,
    requireTags: [...new Set(stringArray(rules['requireTags'], `${where}.placement.requireTags`))],
  };
}

function normalCurrent(raw: unknown): Record<string, string[][]> {
  if (raw === undefined) return {};
  if (!isRecord(raw))
    throw invalid('current', 'current must be an object of resource → partitions');
  for (const [name, rows] of Object.entries(raw)) {
    const ok =
      Array.isArray(rows) &&
      rows.every(
        (row) => Array.isArray(row) && row.every((id): id is string => typeof id === 'string'),
      );
    if (!ok) {
      throw invalid(`current.${name}`, `current.${name} must be an array of arrays of node ids`);
    }
  }
  return raw as Record<string, string[][]>;
}

/**
 * Checks the shape of the input (it may come from a file or the network) and applies defaults.
 * Nodes are sorted by id so the plan does not depend on the order they were listed in.
 */
export function normalizeInput(input: PlacementInput): NormalInput {
  const raw: unknown = input;
  if (!isRecord(raw)) throw invalid('input', 'input must be an object');
  if (!Array.isArray(raw['nodes'])) throw invalid('nodes', 'nodes must be an array');
  if (!Array.isArray(raw['resources'])) throw invalid('resources', 'resources must be an array');

  const parsed = (raw['nodes'] as unknown[]).map(normalNode);
  parsed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const nodeIndex = new Map<string, number>();
  const nodes = parsed.map((n, index) => {
    if (nodeIndex.has(n.id)) throw invalid('nodes', `duplicate node id '${n.id}'`);
    nodeIndex.set(n.id, index);
    return { ...n, index };
  });

  const resources = (raw['resources'] as unknown[]).map(normalResource);
  const names = new Set<string>();
  for (const r of resources) {
    if (names.has(r.name)) throw invalid('resources', `duplicate resource name '${r.name}'`);
    names.add(r.name);
  }
  return { nodes, nodeIndex, resources, current: normalCurrent(raw['current']) };
}

export function isEligibleState(state: NodeState): boolean {
  switch (state) {
    case 'ALIVE':
    case 'SUSPECT':
      return true;
    case 'DEAD':
    case 'DRAINING':
    case 'LEFT':
      return false;
  }
}
