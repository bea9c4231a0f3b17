import 'reflect-metadata';
import fc from 'fast-check';
import { type MapResourceV1 } from '@tessera/contracts';
import { type MapEventKind } from './map-events';
import { PartitionMapClient } from './partition-map-client';
import {
  ControlledMapSource,
  type Delivery,
  FakeCoordinator,
  FakeEvents,
  type PartitionChange,
  resource,
} from './testing.fakes';

const NODES = ['n1', 'n2', 'n3'];
const REFRESH_MS = 300;

type Event = { kind: MapEventKind; payload: Record<string, unknown> };

type Command =
  | { t: 'change'; resource: number; picks: { partition: number; kind: number; node: number }[] }
  | { t: 'create'; partitions: number }
  | { t: 'delete'; resource: number }
  | { t: 'deliver'; i: number }
  | { t: 'duplicate'; i: number }
  | { t: 'drop'; i: number }
  | { t: 'refresh' }
  | { t: 'answer'; i: number; pick: number; fail: boolean }
  | { t: 'tick'; ms: number };

const change = fc.record({
  t: fc.constant('change' as const),
  resource: fc.nat(),
  picks: fc.array(fc.record({ partition: fc.nat(), kind: fc.nat({ max: 3 }), node: fc.nat() }), {
    minLength: 1,
    maxLength: 3,
  }),
});

const commands: fc.Arbitrary<Command[]> = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: change },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('create' as const),
        partitions: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), resource: fc.nat() }) },
    { weight: 12, arbitrary: fc.record({ t: fc.constant('deliver' as const), i: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('duplicate' as const), i: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('drop' as const), i: fc.nat() }) },
    // The application asks (KvClient does after NOT_LEADER).
    { weight: 3, arbitrary: fc.record({ t: fc.constant('refresh' as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('answer' as const),
        i: fc.nat(),
        pick: fc.nat(),
        fail: fc.boolean(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        t: fc.constant('tick' as const),
        ms: fc.integer({ min: 0, max: 400 }),
      }),
    },
  ),
  { maxLength: 80 },
);

/** The next state of one partition: an election, going offline, an ISR change or a reassignment. */
function nextState(
  r: MapResourceV1,
  pick: { partition: number; kind: number; node: number },
): PartitionChange {
  const p = r.partitions[pick.partition % r.partitionCount];
  const node = NODES[pick.node % NODES.length];
  const base = { resource: r.name, partition: p.partition, replicas: p.replicas };
  switch (pick.kind) {
    case 0:
      return { ...base, leader: node, epoch: p.epoch + 1, isr: [node] };
    case 1:
      return { ...base, leader: null, epoch: p.epoch + 1, isr: [] };
    case 2:
      return p.leader === null
        ? { ...base, leader: node, epoch: p.epoch + 1, isr: [node] }
        : { ...base, leader: p.leader, epoch: p.epoch, isr: [...new Set([p.leader, node])] };
    default:
      return { ...base, leader: p.leader, epoch: p.epoch, isr: p.isr, replicas: [node, ...NODES] };
  }
}

/**
 * How versions arrive: whole in `events.map`, split into `events.map.changes` chunks (a small
 * chunk size, so the 1–3 changes of a version do split), or as per-partition leader events.
 */
const deliveries: fc.Arbitrary<Delivery> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), maxEntries: fc.integer({ min: 1, max: 3 }) }),
  fc.constant({ kind: 'leader-events' as const }),
);

/** One run: a coordinator, one client, and a network that loses, repeats and reorders. */
class World {
  readonly coordinator: FakeCoordinator;
  readonly source: ControlledMapSource;
  readonly events = new FakeEvents();
  readonly sut: PartitionMapClient;
  /** Published, not delivered yet. */
  readonly inFlight: Event[] = [];
  readonly delivered: Event[] = [];
  /** Every (leader, epoch) a partition ever had: a route must be one of them. */
  readonly real = new Set<string>();
  /** Highest epoch the client was seen to route each partition to. */
  private readonly routed = new Map<string, number>();
  private created = 1;
  private lastVersion = -1;

  constructor(delivery: Delivery) {
    this.coordinator = new FakeCoordinator(
      { version: 1, resources: [resource('r0', 4, ['n1', 'n2'])] },
      delivery,
    );
    this.source = new ControlledMapSource(this.coordinator);
    this.sut = new PartitionMapClient({
      source: this.source,
      events: this.events,
      refreshIntervalMs: REFRESH_MS,
      refetchJitterMs: 50,
      gapGraceMs: 250,
    });
    this.remember();
  }

  async start(): Promise<void> {
    const started = this.sut.start();
    this.source.answerAllWithCurrent();
    await started;
  }

  publish(events: Event[]): void {
    this.inFlight.push(...events);
    this.remember();
  }

  async run(c: Command): Promise<void> {
    const names = this.coordinator.resourceNames();
    switch (c.t) {
      case 'change': {
        if (names.length === 0) return;
        const r = this.coordinator.resource(names[c.resource % names.length]);
        if (!r) return;
        const byPartition = new Map<number, PartitionChange>();
        for (const pick of c.picks) {
          const next = nextState(r, pick);
          byPartition.set(next.partition, next);
        }
        this.publish(this.coordinator.change([...byPartition.values()]));
        return;
      }
      case 'create': {
        const view = resource(`r${this.created++}`, c.partitions, ['n1', 'n2'], 0);
        for (const p of view.partitions) {
          p.leader = null;
          p.isr = [];
        }
        this.publish(this.coordinator.create(view));
        return;
      }
      case 'delete':
        if (names.length > 0)
          this.publish(this.coordinator.delete(names[c.resource % names.length]));
        return;
      case 'deliver':
      case 'duplicate':
      case 'drop': {
        if (this.inFlight.length === 0) return;
        const i = c.i % this.inFlight.length;
        const [event] = c.t === 'duplicate' ? [this.inFlight[i]] : this.inFlight.splice(i, 1);
        if (c.t !== 'drop') this.deliver(event);
        return;
      }
      case 'refresh':
        this.sut.refresh().catch(() => undefined);
        return;
      case 'answer':
        this.source.answer(c.i, c.pick, c.fail);
        // Let the client install the answer before the invariants are checked.
        for (let i = 0; i < 10; i++) await Promise.resolve();
        return;
      case 'tick':
        await jest.advanceTimersByTimeAsync(c.ms);
        return;
    }
  }

  deliver(event: Event): void {
    this.events.emit(event.kind, structuredClone(event.payload));
    this.delivered.push(event);
  }

  /** The invariants that hold at every moment. */
  check(): void {
    const version = this.sut.version;
    expect(version).toBeGreaterThanOrEqual(this.lastVersion);
    expect(version).toBeLessThanOrEqual(this.coordinator.version);
    this.lastVersion = version;
    for (const r of this.sut.map.resources) {
      for (let p = 0; p < r.partitionCount; p++) {
        const route = this.sut.partition(r.name, p);
        const key = `${r.name}/${p}`;
        // Never an older epoch than one already routed to; never a state that did not exist.
        expect(route.epoch).toBeGreaterThanOrEqual(this.routed.get(key) ?? 0);
        expect(this.real.has(`${key}@${route.epoch}:${route.leader}`)).toBe(true);
        this.routed.set(key, route.epoch);
      }
    }
  }

  /** Lets every fetch be answered with the current map and every timer run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) {
      this.source.answerAllWithCurrent();
      await jest.advanceTimersByTimeAsync(REFRESH_MS * 1.2);
    }
    this.source.answerAllWithCurrent();
    await jest.advanceTimersByTimeAsync(0);
  }

  private remember(): void {
    for (const r of this.coordinator.current.resources) {
      for (const p of r.partitions)
        this.real.add(`${r.name}/${p.partition}@${p.epoch}:${p.leader}`);
    }
  }
}

/** Runs the commands checking the invariants at every step, then lets everything arrive. */
async function runAndConverge(delivery: Delivery, cmds: Command[]): Promise<void> {
  const world = new World(delivery);
  try {
    await world.start();
    for (const c of cmds) {
      await world.run(c);
      world.check();
    }
    // Whatever is still on the way arrives; lost events are caught by the safety net.
    for (const e of world.inFlight.splice(0)) world.deliver(e);
    world.check();
    await world.settle();
    world.check();
    expect(world.sut.version).toBe(world.coordinator.version);
    expect(world.sut.map).toEqual(world.coordinator.current);
  } finally {
    world.sut.close();
  }
}

describe(`${PartitionMapClient.name} properties`, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('converges to the latest map through lost, repeated and reordered events and fetches, never routing back', async () => {
    await fc.assert(fc.asyncProperty(deliveries, commands, runAndConverge), { numRuns: 400 });
  }, 60_000);

  it('never routes back when a fetch started before a change is answered after its event', async () => {
    // The race behind "went back" routes, made likely: few commands, fetches left in flight.
    const races = fc.array(
      fc.oneof(
        change,
        fc.record({ t: fc.constant('deliver' as const), i: fc.nat() }),
        fc.record({ t: fc.constant('refresh' as const) }),
        fc.record({
          t: fc.constant('answer' as const),
          i: fc.nat(),
          pick: fc.nat(),
          fail: fc.constant(false),
        }),
      ),
      { maxLength: 12 },
    );
    await fc.assert(fc.asyncProperty(deliveries, races, runAndConverge), { numRuns: 300 });
  }, 60_000);

  it('follows partition changes delivered in order, duplicates included, without a fetch', async () => {
    const ordered = fc.array(
      fc.oneof(
        { weight: 3, arbitrary: change },
        { weight: 1, arbitrary: fc.record({ t: fc.constant('duplicate' as const), i: fc.nat() }) },
      ),
      { maxLength: 40 },
    );
    await fc.assert(
      fc.asyncProperty(deliveries, ordered, async (delivery, cmds) => {
        const world = new World(delivery);
        try {
          await world.start();
          for (const c of cmds) {
            if (c.t === 'duplicate') {
              if (world.delivered.length > 0)
                world.deliver(world.delivered[c.i % world.delivered.length]);
            } else {
              await world.run(c);
              for (const e of world.inFlight.splice(0)) world.deliver(e);
              expect(world.sut.version).toBe(world.coordinator.version);
              expect(world.sut.map).toEqual(world.coordinator.current);
            }
            world.check();
          }
          await jest.advanceTimersByTimeAsync(REFRESH_MS / 2);
          expect(world.source.calls).toBe(1);
        } finally {
          world.sut.close();
        }
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});
