import { Command, Option } from 'commander';
import type { CreateResourceBodyV1, SpreadBy } from '@tessera/contracts';
import { CliError } from '../api/cli-error';
import { type CliContext, printJson, println } from '../cli-context';
import { resourceCreatedView, resourceDetailView, resourcesView } from '../output/resource.view';
import { type JsonOption, collect, positiveInt, withJson } from './command-options';

const SPREAD_BY = ['zone', 'rack', 'none'] as const satisfies readonly SpreadBy[];

interface CreateOptions extends JsonOption {
  partitions: number;
  replicationFactor: number;
  spreadBy?: SpreadBy;
  requireTag?: string[];
}

/** The contract's rules for names and sizes; passed in so this stays a pure function. */
export interface ResourceRules {
  tokenPattern: RegExp;
  tokenRule: string;
  maxPartitions: number;
  maxReplicationFactor: number;
}

/** Checks what commander cannot (name and tag syntax, upper bounds) and builds the request body. */
export function createResourceBody(
  name: string,
  options: CreateOptions,
  rules: ResourceRules,
): CreateResourceBodyV1 {
  if (!rules.tokenPattern.test(name)) {
    throw CliError.usage(`invalid resource name "${name}": use ${rules.tokenRule}`);
  }
  if (options.partitions > rules.maxPartitions) {
    throw CliError.usage(
      `--partitions ${options.partitions} is more than the maximum of ${rules.maxPartitions}`,
    );
  }
  if (options.replicationFactor > rules.maxReplicationFactor) {
    throw CliError.usage(
      `--replication-factor ${options.replicationFactor} is more than the maximum of ${rules.maxReplicationFactor}`,
    );
  }
  const tags = [...new Set(options.requireTag ?? [])];
  const badTag = tags.find((tag) => !rules.tokenPattern.test(tag));
  if (badTag !== undefined)
    throw CliError.usage(`invalid --require-tag "${badTag}": use ${rules.tokenRule}`);

  const body: CreateResourceBodyV1 = {
    name,
    partitions: options.partitions,
    replicationFactor: options.replicationFactor,
  };
  if (options.spreadBy !== undefined || tags.length > 0) {
    body.placement = {
      ...(options.spreadBy !== undefined ? { spreadBy: options.spreadBy } : {}),
      ...(tags.length > 0 ? { requireTags: tags } : {}),
    };
  }
  return body;
}

/** Loaded only by `resources create`: the contracts pull in class-validator, slow to start. */
export async function loadResourceRules(): Promise<ResourceRules> {
  await import('reflect-metadata'); // the contracts' decorators need it when their module loads
  const contracts = await import('@tessera/contracts');
  return {
    tokenPattern: contracts.TOKEN_PATTERN,
    tokenRule: contracts.TOKEN_RULE,
    maxPartitions: contracts.MAX_PARTITIONS,
    maxReplicationFactor: contracts.MAX_REPLICATION_FACTOR,
  };
}

function createCommand(ctx: CliContext): Command {
  return withJson(new Command('create'))
    .description('create a resource; the coordinator places its replicas')
    .argument('<name>', 'resource name')
    .requiredOption('--partitions <n>', 'number of partitions', positiveInt)
    .requiredOption('--replication-factor <r>', 'replicas per partition', positiveInt)
    .addOption(
      new Option('--spread-by <level>', 'keep replicas of a partition apart by').choices(SPREAD_BY),
    )
    .option('--require-tag <tag>', 'only place on nodes with this tag (repeatable)', collect)
    .action(async (name: string, options: CreateOptions) => {
      const body = createResourceBody(name, options, await loadResourceRules());
      const created = await ctx.api().createResource(body);
      if (options.json) printJson(ctx.io, created);
      else println(ctx.io, resourceCreatedView(created));
    });
}

function listCommand(ctx: CliContext): Command {
  return withJson(new Command('list'))
    .alias('ls')
    .description('list the resources')
    .action(async (options: JsonOption) => {
      const resources = await ctx.api().resources();
      if (options.json) printJson(ctx.io, resources);
      else println(ctx.io, resourcesView(resources, ctx.now()));
    });
}

function describeCommand(ctx: CliContext): Command {
  return withJson(new Command('describe'))
    .description('a resource with its placement, health and partitions')
    .argument('<name>', 'resource name')
    .action(async (name: string, options: JsonOption) => {
      const resource = await ctx.api().resource(name);
      if (options.json) printJson(ctx.io, resource);
      else println(ctx.io, resourceDetailView(resource, ctx.now()));
    });
}

function deleteCommand(ctx: CliContext): Command {
  return withJson(new Command('delete'))
    .description('delete a resource and its partitions')
    .argument('<name>', 'resource name')
    .action(async (name: string, options: JsonOption) => {
      const reply = await ctx.api().deleteResource(name);
      if (options.json) printJson(ctx.io, reply);
      else println(ctx.io, `Deleted resource ${reply.name}.`);
    });
}

export function resourcesCommand(ctx: CliContext): Command {
  return new Command('resources')
    .description('create, list, describe and delete resources (default: list)')
    .addCommand(listCommand(ctx), { isDefault: true })
    .addCommand(createCommand(ctx))
    .addCommand(describeCommand(ctx))
    .addCommand(deleteCommand(ctx));
}
