import { Command } from 'commander';
import { CliError } from '../api/cli-error';
import { type CliContext, printJson, println } from '../cli-context';
import { mapView } from '../output/cluster.view';
import { type JsonOption, withJson } from './command-options';

export function mapCommand(ctx: CliContext): Command {
  return withJson(new Command('map'))
    .description('the partition map: replicas, leader, epoch and ISR of every partition')
    .option('--resource <name>', 'only this resource')
    .action(async (options: JsonOption & { resource?: string }) => {
      const map = await ctx.api().map();
      const resources = options.resource
        ? map.resources.filter((resource) => resource.name === options.resource)
        : map.resources;
      if (options.resource && resources.length === 0) {
        throw new CliError(`not found: resource "${options.resource}" is not in the map`);
      }
      if (options.json) printJson(ctx.io, { version: map.version, resources });
      else println(ctx.io, mapView(resources, map.version));
    });
}
