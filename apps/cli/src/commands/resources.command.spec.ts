import { CliError, EXIT_USAGE } from '../api/cli-error';
import { type ResourceRules, createResourceBody, loadResourceRules } from './resources.command';

// The contract's real limits, loaded the way the command loads them.
let rules: ResourceRules;
const MAX_PARTITIONS = 100_000;
const MAX_REPLICATION_FACTOR = 7;

beforeAll(async () => {
  rules = await loadResourceRules();
});

describe(loadResourceRules.name, () => {
  it('reads the name rule and limits from the contracts', () => {
    expect(rules).toMatchObject({
      maxPartitions: MAX_PARTITIONS,
      maxReplicationFactor: MAX_REPLICATION_FACTOR,
    });
    expect(rules.tokenPattern.test('orders-eu_1')).toBe(true);
    expect(rules.tokenPattern.test('orders.eu')).toBe(false);
  });
});

function usageError(run: () => unknown): CliError {
  try {
    run();
  } catch (error: unknown) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe(createResourceBody.name, () => {
  it('builds the request body without placement when no placement flag is given', () => {
    const sut = createResourceBody('orders', { partitions: 16, replicationFactor: 3 }, rules);

    expect(sut).toEqual({ name: 'orders', partitions: 16, replicationFactor: 3 });
  });

  it('adds spreadBy and de-duplicated tags', () => {
    const sut = createResourceBody(
      'orders',
      { partitions: 4, replicationFactor: 2, spreadBy: 'rack', requireTag: ['ssd', 'ssd', 'eu'] },
      rules,
    );

    expect(sut.placement).toEqual({ spreadBy: 'rack', requireTags: ['ssd', 'eu'] });
  });

  it.each([
    ['a.b', { partitions: 1, replicationFactor: 1 }, 'invalid resource name "a.b"'],
    [
      'ok',
      { partitions: MAX_PARTITIONS + 1, replicationFactor: 1 },
      `maximum of ${MAX_PARTITIONS}`,
    ],
    [
      'ok',
      { partitions: 1, replicationFactor: MAX_REPLICATION_FACTOR + 1 },
      '--replication-factor',
    ],
    [
      'ok',
      { partitions: 1, replicationFactor: 1, requireTag: ['has space'] },
      'invalid --require-tag "has space"',
    ],
  ])('rejects %j %j as a usage error', (name, options, message) => {
    const error = usageError(() => createResourceBody(name, options, rules));

    expect(error.exitCode).toBe(EXIT_USAGE);
    expect(error.message).toContain(message);
  });
});
