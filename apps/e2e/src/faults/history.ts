import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The workspace root (this file is apps/e2e/src/faults/history.ts). */
const ROOT = join(__dirname, '../../../..');

/**
 * A fault scenario's history (RELIABILITY.md): client operations (invoke, then ok / fail / info
 * per reply or timeout), leader grants as announced, role commands with the node's answer, the
 * faults injected, and the final reads. Times are the test process's Date.now().
 */
export type HistoryEntry =
  | PutInvoke
  | PutOk
  | PutFail
  | PutInfo
  | FinalRead
  | Grant
  | CommandOutcome
  | FaultMark
  | MapSample;

export interface PutInvoke {
  type: 'invoke';
  t: number;
  id: number;
  resource: string;
  partition: number;
  key: string;
  value: string;
}

/** A reply `{ ok: true, epoch, offset }`; `n` counts replies to the same request (1 = first). */
export interface PutOk {
  type: 'ok';
  t: number;
  id: number;
  epoch: string;
  offset: number;
  n: number;
}

/** A reply `{ ok: false, code }`: `definite` when the code says the write was not applied. */
export interface PutFail {
  type: 'fail';
  t: number;
  id: number;
  code: string;
  definite: boolean;
  n: number;
}

/** No reply within the client's timeout: the write may or may not have happened. */
export interface PutInfo {
  type: 'info';
  t: number;
  id: number;
  reason: 'timeout';
}

/** After the faults healed: what the partition's leader holds for a key written during the run. */
export interface FinalRead {
  type: 'read';
  t: number;
  resource: string;
  partition: number;
  key: string;
  value: string | null;
  epoch: string;
}

/** An `events.partition.leader` event as received. */
export interface Grant {
  type: 'grant';
  t: number;
  eventId: string;
  resource: string;
  partition: number;
  leader: string | null;
  epoch: number;
  version: number;
}

/** One assignment of a `node.<id>.role.assign` command and the node's answer to it. */
export interface CommandOutcome {
  type: 'command';
  t: number;
  nodeId: string;
  resource: string;
  partition: number;
  role: string;
  leader: string | null;
  epoch: string;
  outcome: 'accepted' | 'rejected';
  replayed: boolean;
}

export interface FaultMark {
  type: 'fault';
  t: number;
  action:
    | 'SIGKILL'
    | 'SIGSTOP'
    | 'SIGCONT'
    | 'restart'
    | 'replay'
    | 'heal'
    | 'drain'
    | 'join'
    | 'loop-block'
    | 'loop-release'
    | 'isolate'
    | 'skew';
  target: string;
}

/** One partition as the map showed it. */
export interface SampledPartition {
  partition: number;
  leader: string | null;
  epoch: number;
  isr: string[];
  replicas: string[];
}

/** A resource's slice of the map (`GET /map`) as polled at `t`: what C6 judges convergence by. */
export interface MapSample {
  type: 'map';
  t: number;
  resource: string;
  partitions: SampledPartition[];
}

/** Reply codes that mean a put was refused before it touched the log (API.md). */
export const DEFINITE_FAILURES: readonly string[] = [
  'NOT_LEADER',
  'INVALID',
  'INVALID_JSON',
  'FORBIDDEN',
];

export class History {
  readonly entries: HistoryEntry[] = [];

  constructor(readonly scenario: string) {}

  add(entry: HistoryEntry): void {
    this.entries.push(entry);
  }

  fault(action: FaultMark['action'], target: string): number {
    const t = Date.now();
    this.add({ type: 'fault', t, action, target });
    return t;
  }

  of<T extends HistoryEntry['type']>(type: T): Extract<HistoryEntry, { type: T }>[] {
    return this.entries.filter((e): e is Extract<HistoryEntry, { type: T }> => e.type === type);
  }

  /** Writes the history as JSON lines to tmp/test-results/faults/<scenario>.jsonl; returns the path. */
  save(): string {
    const dir = join(ROOT, 'tmp', 'test-results', 'faults');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.scenario}.jsonl`);
    writeFileSync(file, this.entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return file;
  }
}
