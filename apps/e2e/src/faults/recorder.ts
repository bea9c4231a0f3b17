import { connect, type NatsConnection } from 'nats';
import { type EventLog, type ObservedEvent } from '../cluster';
import { type History } from './history';

const dec = new TextDecoder();

/** One assignment of a role command, as sent on the wire (AssignRolesCommandV1). */
export interface WireAssignment {
  resource: string;
  partition: number;
  partitionCount: number;
  role: string;
  leader: string | null;
  leaderEpoch: string;
  isr: string[];
  replicas: string[];
  partitionEpoch?: string;
}

/** A `node.<id>.role.assign` command seen on the wire, raw, with the node's answer. */
export interface CapturedCommand {
  t: number;
  nodeId: string;
  subject: string;
  raw: Uint8Array;
  assignments: WireAssignment[];
  reply: AssignReply | null;
}

export interface AssignReply {
  ok: boolean;
  code?: string;
  accepted?: number;
  rejected?: { resource: string; partition: number; highestEpoch: string }[];
}

/** A replica as its node reports it (`replication.replica.report.<id>`). */
export interface ReportedReplica {
  resource: string;
  partition: number;
  role: string;
  leaderEpoch: string;
}

/**
 * Records what the control plane does, for the checkers: every leader grant announced
 * (`events.partition.leader`), every role command to a node and the node's answer (read off the
 * command's own reply subject), and each node's latest replica report. Captured commands can be
 * replayed to their node (S17).
 */
export class ControlPlaneRecorder {
  readonly commands: CapturedCommand[] = [];
  private readonly reports = new Map<string, { t: number; replicas: ReportedReplica[] }>();
  private stopEvents: (() => void) | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly history: History,
  ) {}

  static async start(
    natsUrl: string,
    cluster: string,
    history: History,
    events: EventLog,
  ): Promise<ControlPlaneRecorder> {
    const nc = await connect({ servers: natsUrl });
    const recorder = new ControlPlaneRecorder(nc, history);
    const prefix = `tessera.v1.${cluster}.`;
    nc.subscribe(`${prefix}node.*.role.assign`, {
      callback: (_err, msg) => recorder.onCommand(msg.subject, msg.reply, msg.data),
    });
    nc.subscribe(`${prefix}replication.replica.report.*`, {
      callback: (_err, msg) => recorder.onReport(msg.data),
    });
    await nc.flush();
    for (const e of events.leaderEvents()) recorder.onEvent(e);
    recorder.stopEvents = events.onEvent((e) => recorder.onEvent(e));
    return recorder;
  }

  /** The latest replica report of a node received after `since` (undefined if none yet). */
  report(nodeId: string, since = 0): ReportedReplica[] | undefined {
    const r = this.reports.get(nodeId);
    return r && r.t >= since ? r.replicas : undefined;
  }

  /**
   * Sends captured commands again, byte for byte, to the node they were for; records each
   * assignment's outcome (replayed) and returns the replies.
   */
  async replay(
    commands: CapturedCommand[],
  ): Promise<{ command: CapturedCommand; reply: AssignReply }[]> {
    const results: { command: CapturedCommand; reply: AssignReply }[] = [];
    for (const command of commands) {
      const msg = await this.nc.request(command.subject, command.raw, { timeout: 5_000 });
      const reply = JSON.parse(dec.decode(msg.data)) as AssignReply;
      this.recordOutcomes(command.nodeId, command.assignments, reply, true);
      results.push({ command, reply });
    }
    return results;
  }

  async close(): Promise<void> {
    this.stopEvents?.();
    await this.nc.close();
  }

  private onCommand(subject: string, reply: string | undefined, data: Uint8Array): void {
    // Commands on the wire may be anything (S23 sends garbage): record well-formed ones only.
    let body: { nodeId?: unknown; assignments?: unknown } | null;
    try {
      body = JSON.parse(dec.decode(data)) as typeof body;
    } catch {
      return;
    }
    if (typeof body !== 'object' || body === null) return;
    if (typeof body.nodeId !== 'string' || !Array.isArray(body.assignments)) return;
    if (!body.assignments.every((a) => typeof a === 'object' && a !== null)) return;
    const command: CapturedCommand = {
      t: Date.now(),
      nodeId: body.nodeId,
      subject,
      raw: new Uint8Array(data),
      assignments: body.assignments as WireAssignment[],
      reply: null,
    };
    this.commands.push(command);
    // The node answers on the requester's reply subject: listen to that one subject (the node
    // first makes its fences durable, so this subscription is in place before the answer). Never
    // `_INBOX.>`: interest in every inbox keeps JetStream delivering to pull requests of dead
    // clients, which stalls their durable consumers until the ack wait.
    if (reply) {
      const sub = this.nc.subscribe(reply, {
        max: 1,
        timeout: 10_000,
        callback: (err, msg) => {
          // No answer (the node died or was cut off): nats.js stops the subscription locally
          // but leaves the server's interest in place; S24's soak saw one leaked per fault.
          if (err) sub.unsubscribe();
          else this.onReply(command, msg.data);
        },
      });
    }
  }

  private onReply(command: CapturedCommand, data: Uint8Array): void {
    let reply: AssignReply;
    try {
      reply = JSON.parse(dec.decode(data)) as AssignReply;
    } catch {
      return;
    }
    command.reply = reply;
    this.recordOutcomes(command.nodeId, command.assignments, reply, false);
  }

  private recordOutcomes(
    nodeId: string,
    assignments: WireAssignment[],
    reply: AssignReply,
    replayed: boolean,
  ): void {
    const t = Date.now();
    const rejected = new Set((reply.rejected ?? []).map((r) => `${r.resource}/${r.partition}`));
    for (const a of assignments) {
      const refused = reply.ok !== true || rejected.has(`${a.resource}/${a.partition}`);
      this.history.add({
        type: 'command',
        t,
        nodeId,
        resource: a.resource,
        partition: a.partition,
        role: a.role,
        leader: a.leader,
        epoch: a.leaderEpoch,
        outcome: refused ? 'rejected' : 'accepted',
        replayed,
      });
    }
  }

  private onReport(data: Uint8Array): void {
    try {
      const body = JSON.parse(dec.decode(data)) as { nodeId?: unknown; replicas?: unknown } | null;
      if (
        typeof body === 'object' &&
        body !== null &&
        typeof body.nodeId === 'string' &&
        Array.isArray(body.replicas) &&
        body.replicas.every((r) => typeof r === 'object' && r !== null)
      ) {
        this.reports.set(body.nodeId, {
          t: Date.now(),
          replicas: body.replicas as ReportedReplica[],
        });
      }
    } catch {
      // not a report
    }
  }

  private onEvent(e: ObservedEvent): void {
    if (e.relative !== 'events.partition.leader') return;
    const b = e.body;
    this.history.add({
      type: 'grant',
      t: e.at,
      eventId: String(b['eventId']),
      resource: String(b['resource']),
      partition: Number(b['partition']),
      leader: typeof b['leader'] === 'string' ? b['leader'] : null,
      epoch: Number(b['epoch']),
      version: Number(b['version']),
    });
  }
}

/** The leader epoch each partition has now, from the map (`resource/partition` → epoch). */
export function epochsOf(map: {
  resources: { name: string; partitions: { partition: number; epoch: number }[] }[];
}): Map<string, number> {
  return new Map(
    map.resources.flatMap((r) =>
      r.partitions.map((p) => [`${r.name}/${p.partition}`, p.epoch] as const),
    ),
  );
}
