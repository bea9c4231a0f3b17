import { type PinoLogger } from 'nestjs-pino';
import { type RoleAssignmentV1, TesseraError } from '@tessera/contracts';
import { type NetworkManager } from '@tessera/messaging';
import { type BaseConfig, MetricsService } from '@tessera/service-kit';
import { RoleDispatcher } from './role-dispatcher.service';

interface Sent {
  nodeId: string;
  first: number;
  size: number;
  answer: (ok: boolean) => void;
}

function assignments(n: number): RoleAssignmentV1[] {
  return Array.from({ length: n }, (_, partition) => ({
    resource: 'orders',
    partition,
    partitionCount: 10_000,
    role: 'FOLLOWER',
    leader: 'kv-1',
    leaderEpoch: '2',
    isr: ['kv-1'],
    replicas: ['kv-1', 'kv-2'],
  }));
}

const settle = () => new Promise((r) => setImmediate(r));

describe(RoleDispatcher.name, () => {
  let sent: Sent[];
  let sut: RoleDispatcher;

  beforeEach(() => {
    sent = [];
    const network = {
      request: (_name: string, _subject: string, body: { nodeId: string; assignments: RoleAssignmentV1[] }) =>
        new Promise((resolve, reject) => {
          sent.push({
            nodeId: body.nodeId,
            first: body.assignments[0]?.partition ?? -1,
            size: body.assignments.length,
            answer: (ok) =>
              ok
                ? resolve({ accepted: body.assignments.length, rejected: [] })
                : reject(new TesseraError('TIMEOUT', 'no reply')),
          });
        }),
    } as unknown as NetworkManager;
    const log = { setContext: () => undefined, warn: () => undefined } as unknown as PinoLogger;
    sut = new RoleDispatcher(network, log, new MetricsService({ service: 'consensus', cluster: 't' } as BaseConfig));
  });

  it('sends a node its commands in order, two at a time, in pages of 250', async () => {
    sut.dispatch(new Map([['kv-1', assignments(1_000)]]));
    await settle();
    expect(sent.map((s) => s.first)).toEqual([0, 250]);
    sent[0].answer(true);
    await settle();
    expect(sent.map((s) => s.first)).toEqual([0, 250, 500]);
    sent[1].answer(true);
    sent[2].answer(true);
    await settle();
    expect(sent.map((s) => [s.first, s.size])).toEqual([
      [0, 250],
      [250, 250],
      [500, 250],
      [750, 250],
    ]);
  });

  it('drops what is queued for a node that did not answer, and keeps serving the others', async () => {
    sut.dispatch(
      new Map([
        ['kv-1', assignments(1_000)],
        ['kv-2', assignments(600)],
      ]),
    );
    await settle();
    const toKv1 = () => sent.filter((s) => s.nodeId === 'kv-1');
    expect(toKv1()).toHaveLength(2);
    toKv1()[0].answer(false);
    toKv1()[1].answer(true);
    await settle();
    expect(toKv1()).toHaveLength(2);
    for (const s of sent.filter((x) => x.nodeId === 'kv-2')) s.answer(true);
    await settle();
    expect(sent.filter((s) => s.nodeId === 'kv-2').map((s) => s.size)).toEqual([250, 250, 100]);
    // Later commands for kv-1 are sent again: only the queue of the failed moment was dropped.
    sut.dispatch(new Map([['kv-1', assignments(10)]]));
    await settle();
    expect(toKv1().map((s) => s.size)).toEqual([250, 250, 10]);
  });
});
