import { summarizeCluster } from '../cluster/cluster-health';
import { NOW, node, operation, plan, resource, sampleMap, secondsAgo } from '../testing/fixtures';
import { mapView, nodesView, statusView } from './cluster.view';
import { operationOutcome, operationsView, sortOperations } from './operation.view';
import { progressText } from './progress';
import { movesByPartition, planView, resourceDetailView, resourcesView } from './resource.view';
import { renderTable } from './table';
import { formatAge, formatDuration } from './time';

const lines = (text: string) => text.split('\n');

describe(renderTable.name, () => {
  it('aligns columns, upper-cases the header and leaves no trailing blanks', () => {
    const sut = renderTable(
      ['name', 'n'],
      [
        ['a', 1],
        ['bbbb', 22],
      ],
      ['left', 'right'],
    );

    expect(lines(sut)).toEqual(['NAME   N', 'a      1', 'bbbb  22']);
  });
});

describe(formatDuration.name, () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [65_000, '1m 05s'],
    [3_600_000 + 120_000, '1h 02m'],
    [90_000_000, '1d 1h'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('shows "-" for a missing or unreadable time', () => {
    expect(formatAge(null, NOW)).toBe('-');
    expect(formatAge('yesterday-ish', NOW)).toBe('-');
    expect(formatAge(secondsAgo(3), NOW)).toBe('3s ago');
  });
});

describe(progressText.name, () => {
  it('draws a bar with percentage and counts, and survives a zero total', () => {
    expect(progressText({ done: 5, total: 10 }, 10)).toBe('[█████░░░░░] 50% 5/10');
    expect(progressText({ done: 0, total: 0 }, 4)).toBe('[░░░░] 0% 0/0');
  });
});

describe(nodesView.name, () => {
  it('lists nodes sorted by id with state, tags and heartbeat age', () => {
    const sut = nodesView([node('n2', { state: 'DEAD', tags: ['ssd', 'eu'] }), node('n1')], NOW);

    expect(lines(sut)).toEqual([
      'NODE  STATE  ZONE  RACK  CAPACITY  TAGS    LAST HEARTBEAT',
      'n1    ALIVE  z1    r1           1  -       2s ago',
      'n2    DEAD   z1    r1           1  ssd,eu  2s ago',
    ]);
  });

  it('says so when there are no nodes', () => {
    expect(nodesView([], NOW)).toBe('No nodes have registered yet.');
  });
});

describe(mapView.name, () => {
  it('prints one table per resource, partitions in order, with their state', () => {
    const sut = mapView(sampleMap().resources, 7);

    expect(sut).toContain('orders (3 partitions)');
    expect(sut).toContain('users (1 partition)\n');
    expect(sut.indexOf('orders')).toBeLessThan(sut.indexOf('users'));
    expect(
      lines(sut)
        .filter((line) => /^\s+\d/.test(line))
        .slice(0, 3),
    ).toEqual([
      '        0  n1          1  n1,n2,n3  n1,n2,n3  ONLINE',
      '        1  n1          2  n1,n2,n3  n1,n2     UNDER_REPLICATED',
      '        2  -           4  n1,n2,n3  -         OFFLINE',
    ]);
  });
});

describe(statusView.name, () => {
  it('summarises nodes, partitions and running operations', () => {
    const status = summarizeCluster(
      'http://127.0.0.1:3000',
      [node('n1'), node('n2', { state: 'DRAINING' })],
      sampleMap(),
      [operation(), operation({ id: 'done', state: 'SUCCEEDED' })],
    );

    const sut = statusView(status, NOW);

    expect(lines(sut)).toEqual([
      'Coordinator  http://127.0.0.1:3000 (map version 7)',
      'Health       DEGRADED',
      'Nodes        2 total: 1 ALIVE, 1 DRAINING',
      'Resources    2',
      'Partitions   4 total: 3 led, 2 under-replicated, 1 offline',
      'Operations   1 running',
      '  DRAIN n3 RUNNING [█████░░░░░░░░░░░░░░░] 25% 3/12, started 1m 05s ago (op-1)',
    ]);
  });
});

describe(planView.name, () => {
  it('shows counts, balance before and after, and one row per partition touched', () => {
    const sut = planView(plan({ warnings: ['n5 is SUSPECT'] }));

    expect(sut).toContain('Rebalance plan for orders (dry run: nothing was changed)');
    expect(sut).toContain('Replica moves  1\nLeader moves   1\n');
    expect(sut).toContain('5 (1 ADD_REPLICA, 1 WAIT_IN_SYNC, 2 MOVE_LEADERSHIP, 1 REMOVE_REPLICA)');
    expect(sut).toContain('replicas per node     1.50   1.00');
    expect(sut).toContain('leaders per node      2.00   1.13');
    expect(sut).toContain('        1  -    -       n3 -> n2      1');
    expect(sut).toContain('        3  n4   n1      n1 -> n4      4');
    expect(sut).toContain('warning: n5 is SUSPECT');
    expect(sut).not.toContain('Started operation');
  });

  it('names the operation of a real run and says when nothing moves', () => {
    const sut = planView(
      plan({ dryRun: false, steps: [], moves: 0, leaderMoves: 0, operationId: 'op-9' }),
    );

    expect(sut).toContain('Already balanced: nothing to move.');
    expect(sut).toContain('Started operation op-9');
  });
});

describe(movesByPartition.name, () => {
  it('groups steps by partition in partition order', () => {
    expect(movesByPartition(plan().steps)).toEqual([
      { partition: 1, added: [], removed: [], leader: 'n3 -> n2', steps: 1 },
      { partition: 3, added: ['n4'], removed: ['n1'], leader: 'n1 -> n4', steps: 4 },
    ]);
  });
});

describe(operationsView.name, () => {
  const finished = operation({
    id: 'op-2',
    kind: 'REBALANCE',
    subject: 'orders',
    state: 'FAILED',
    startedAt: secondsAgo(600),
    finishedAt: secondsAgo(545),
    error: 'node n9 left',
  });

  it('puts running operations first, with a bar only when asked', () => {
    const sut = operationsView([finished, operation()], NOW, { bars: true });

    expect(lines(sut)).toEqual([
      'ID    KIND       SUBJECT  STATE    PROGRESS                         STARTED      DURATION  ERROR',
      'op-1  DRAIN      n3       RUNNING  [█████░░░░░░░░░░░░░░░] 25% 3/12  1m 05s ago   1m 05s',
      'op-2  REBALANCE  orders   FAILED   3/12                             10m 00s ago  55s       node n9 left',
    ]);
    expect(operationsView([operation()], NOW, { bars: false })).toContain('RUNNING  3/12');
  });

  it('orders finished operations newest first', () => {
    const older = operation({ id: 'old', state: 'SUCCEEDED', startedAt: secondsAgo(900) });
    expect(sortOperations([older, finished]).map((op) => op.id)).toEqual(['op-2', 'old']);
  });

  it('closes a wait with the outcome', () => {
    const done = operation({
      state: 'SUCCEEDED',
      progress: { done: 12, total: 12 },
      finishedAt: secondsAgo(5),
    });

    expect(operationOutcome(done, NOW)).toBe('DRAIN n3 succeeded after 1m 00s: 12/12 done');
  });
});

describe(resourcesView.name, () => {
  it('lists resources by name with their placement rules', () => {
    const sut = resourcesView(
      [
        resource(),
        resource({ name: 'alpha', placement: { spreadBy: 'none', requireTags: ['ssd'] } }),
      ],
      NOW,
    );

    expect(lines(sut)).toEqual([
      'NAME    PARTITIONS  RF  SPREAD BY  REQUIRE TAGS  CREATED',
      'alpha           16   3  none       ssd           1h 00m ago',
      'orders          16   3  zone       -             1h 00m ago',
    ]);
  });

  it('describes one resource with health counts and its partitions', () => {
    const sut = resourceDetailView(
      {
        ...resource({ warnings: ['only 2 zones'] }),
        state: 'ACTIVE',
        partitionsLed: 2,
        underReplicated: 1,
        offline: 1,
        map: sampleMap().resources[1]!,
      },
      NOW,
    );

    expect(sut).toContain('Health       2 led, 1 under-replicated, 1 offline');
    expect(sut).toContain('warning: only 2 zones');
    expect(sut).toContain('        2  -           4  n1,n2,n3  -         OFFLINE');
  });
});
