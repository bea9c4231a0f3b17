import { isToken, type NodeRegisteredEventV1 } from '@tessera/contracts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Checks an `events.internal.node.registered` payload from the stream. Unknown extra fields are
 * tolerated (the producer may add some); the fields health relies on must be well-formed.
 */
export function parseNodeRegistered(value: unknown): Parsed<NodeRegisteredEventV1> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'expected a JSON object' };
  }
  const v = value as Record<string, unknown>;
  if (typeof v['eventId'] !== 'string' || v['eventId'].length === 0)
    return { ok: false, reason: 'eventId must be a string' };
  if (typeof v['at'] !== 'string' || Number.isNaN(Date.parse(v['at'])))
    return { ok: false, reason: 'at must be an ISO time' };
  if (!isToken(v['nodeId'])) return { ok: false, reason: 'nodeId must be a token' };
  const incarnation = v['incarnation'];
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0) {
    return { ok: false, reason: 'incarnation must be an integer >= 0' };
  }
  return {
    ok: true,
    value: { eventId: v['eventId'], at: v['at'], nodeId: v['nodeId'], incarnation },
  };
}

/**
 * A registration seen long after it happened (a new consumer replaying the stream, health down
 * for a while) says nothing about the node now: it is recorded DEAD until it heartbeats, rather
 * than revived for a second and then declared dead again.
 */
export function isFreshRegistration(at: string, nowWallMs: number, freshForMs: number): boolean {
  return nowWallMs - Date.parse(at) <= freshForMs;
}
