import { clusterPrefix } from '@tessera/contracts';

/** NATS subject permissions for one identity: default deny, allow lists only. */
export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  /** Lets the identity answer requests sent to subjects it subscribes to. */
  allowResponses: boolean;
}

export type NatsRole =
  | { kind: 'service'; service: 'coordinator' | 'health' | 'consensus' | 'replication' | 'recovery' }
  | { kind: 'node'; nodeId: string }
  | { kind: 'client' };

// JetStream's API and the reply inboxes every requester and consumer needs.
const JS_API = '$JS.API.>';
const INBOX = '_INBOX.>';

/**
 * The least privilege each identity needs (RELIABILITY.md security baseline): services reach
 * only the subjects they serve or call; a data node may speak only as itself (its id is in
 * every subject it publishes) and can never forge events or control-plane commands.
 */
export function natsPermissions(cluster: string, role: NatsRole): NatsPermissions {
  const p = clusterPrefix(cluster);
  switch (role.kind) {
    case 'node':
      return {
        publish: {
          allow: [
            `${p}.coordinator.node.register`,
            `${p}.health.node.heartbeat.${role.nodeId}`,
            `${p}.replication.replica.report.${role.nodeId}`,
            `${p}.consensus.node.roles.${role.nodeId}`,
            // Replication traffic between data nodes (leader → followers) is node to node.
            `${p}.node.*.replica.>`,
          ],
        },
        subscribe: { allow: [`${p}.node.${role.nodeId}.>`, `${p}.kv.>`, INBOX] },
        allowResponses: true,
      };
    case 'client':
      return {
        publish: { allow: [`${p}.kv.>`] },
        subscribe: { allow: [`${p}.events.>`, INBOX] },
        allowResponses: false,
      };
    case 'service': {
      const calls: Record<typeof role.service, string[]> = {
        coordinator: [
          `${p}.consensus.partition.>`,
          `${p}.health.node.list`,
          `${p}.recovery.operation.list`,
          `${p}.recovery.operation.update`,
        ],
        health: [],
        consensus: [`${p}.node.*.role.assign`],
        replication: [`${p}.consensus.partition.>`],
        recovery: [
          `${p}.consensus.partition.>`,
          `${p}.health.node.list`,
          `${p}.coordinator.node.replace`,
          `${p}.coordinator.operation.get`,
        ],
      };
      return {
        // Services publish their events (outbox relay) and call the subjects they depend on.
        publish: { allow: [...calls[role.service], `${p}.events.>`, JS_API] },
        subscribe: { allow: [`${p}.${role.service}.>`, `${p}.events.>`, INBOX] },
        allowResponses: true,
      };
    }
  }
}

/** Renders an `authorization { users = [...] }` block for nats-server.conf. */
export function natsAuthorizationBlock(
  users: { user: string; password: string; permissions: NatsPermissions }[],
): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  const rendered = users.map(
    (u) =>
      `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}, permissions: {\n` +
      `        publish: { allow: ${list(u.permissions.publish.allow)} }\n` +
      `        subscribe: { allow: ${list(u.permissions.subscribe.allow)} }\n` +
      (u.permissions.allowResponses ? `        allow_responses: true\n` : '') +
      `    } }`,
  );
  return `authorization {\n  users = [\n${rendered.join('\n')}\n  ]\n}\n`;
}
