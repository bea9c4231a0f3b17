import { isToken, PARTITION_CHANGE_REASONS, type PartitionsChangedEventV1 } from '@tessera/contracts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What replication acts on in `events.internal.partitions.changed`. */
export interface PartitionsChanged {
  eventId: string;
  reason: PartitionsChangedEventV1['reason'];
  deletedResource: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REASONS: readonly string[] = PARTITION_CHANGE_REASONS;

/**
 * Checks the fields replication relies on (extra fields are the producer's business). The event
 * id keys the inbox (a uuid column), and a DELETE must name its resource.
 */
export function parsePartitionsChanged(value: unknown): Parsed<PartitionsChanged> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'expected a JSON object' };
  }
  const v = value as Record<string, unknown>;
  const { eventId, reason, deletedResource } = v;
  if (typeof eventId !== 'string' || !UUID.test(eventId))
    return { ok: false, reason: 'eventId must be a uuid' };
  if (typeof reason !== 'string' || !REASONS.includes(reason))
    return { ok: false, reason: 'unknown reason' };
  if (reason === 'DELETE' && !isToken(deletedResource)) {
    return { ok: false, reason: 'a DELETE must name its deletedResource' };
  }
  return {
    ok: true,
    value: {
      eventId,
      reason: reason as PartitionsChanged['reason'],
      deletedResource: isToken(deletedResource) ? deletedResource : null,
    },
  };
}
