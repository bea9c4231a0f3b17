import { type NatsConnection } from 'nats';
import { Subjects, fullSubject } from '@tessera/contracts';

/** `events.map`, `events.map.changes` or `events.partition.leader`. */
export type MapEventKind = 'map' | 'mapChanges' | 'partitionLeader';

/** A stream of map events; core NATS, or a fake. */
export interface MapEventSource {
  /** Starts delivering events; returns the function that stops it. */
  subscribe(onEvent: (kind: MapEventKind, payload: unknown) => void): () => void;
}

/** A NATS connection and the cluster it serves; a NetworkManager is one. */
export interface ClusterConnection {
  readonly connection: NatsConnection;
  readonly cluster: string;
}

/**
 * Map events over core NATS (not JetStream: a client wants the live tail, and a missed event is
 * caught by the version check and the periodic refresh). `events.map` carries each version's
 * changed entries, so the per-partition `events.partition.leader` are left out: one message
 * per version instead of one per changed partition.
 */
export function natsMapEvents(source: ClusterConnection): MapEventSource {
  return {
    subscribe(onEvent) {
      const decoder = new TextDecoder();
      const subs = (
        [
          ['map', Subjects.events.map],
          ['mapChanges', Subjects.events.mapChanges],
        ] as const
      ).map(([kind, relative]) =>
        source.connection.subscribe(fullSubject(source.cluster, relative), {
          callback: (err, msg) => {
            if (err) return;
            let payload: unknown;
            try {
              payload = JSON.parse(decoder.decode(msg.data));
            } catch {
              return; // not an event we can read: the version check will catch up
            }
            onEvent(kind, payload);
          },
        }),
      );
      return () => {
        for (const s of subs) s.unsubscribe();
      };
    },
  };
}
