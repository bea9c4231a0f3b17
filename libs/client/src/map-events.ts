import { type NatsConnection } from 'nats';
import { Subjects, fullSubject } from '@tessera/contracts';

export type MapEventKind = 'map' | 'partitionLeader';

/** A stream of map events (`events.map`, `events.partition.leader`); core NATS, or a fake. */
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
 * caught by the version check and the periodic refresh).
 */
export function natsMapEvents(source: ClusterConnection): MapEventSource {
  return {
    subscribe(onEvent) {
      const decoder = new TextDecoder();
      const subs = (
        [
          ['map', Subjects.events.map],
          ['partitionLeader', Subjects.events.partitionLeader],
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
