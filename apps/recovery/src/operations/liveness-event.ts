import { isToken, LIVENESS_STATES, type LivenessState } from '@tessera/contracts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface LivenessChange {
  eventId: string;
  nodeId: string;
  state: LivenessState;
  previous: LivenessState | null;
  /** When health made the change (ms since the epoch, health's clock). */
  atMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isLivenessState(value: unknown): value is LivenessState {
  return typeof value === 'string' && (LIVENESS_STATES as readonly string[]).includes(value);
}

/**
 * Checks an `events.internal.node.liveness` payload: the fields recovery acts on must be
 * well-formed (the event id keys the inbox, a uuid column); extra fields are tolerated.
 */
export function parseLivenessEvent(value: unknown): Parsed<LivenessChange> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'expected a JSON object' };
  }
  const { eventId, at, nodeId, state, previous } = value as Record<string, unknown>;
  if (typeof eventId !== 'string' || !UUID.test(eventId))
    return { ok: false, reason: 'eventId must be a uuid' };
  const atMs = typeof at === 'string' ? Date.parse(at) : NaN;
  if (Number.isNaN(atMs)) return { ok: false, reason: 'at must be an ISO time' };
  if (!isToken(nodeId)) return { ok: false, reason: 'nodeId must be a token' };
  if (!isLivenessState(state)) return { ok: false, reason: 'state must be ALIVE, SUSPECT or DEAD' };
  if (previous !== null && previous !== undefined && !isLivenessState(previous)) {
    return { ok: false, reason: 'previous must be a liveness state or null' };
  }
  return { ok: true, value: { eventId, nodeId, state, previous: previous ?? null, atMs } };
}
