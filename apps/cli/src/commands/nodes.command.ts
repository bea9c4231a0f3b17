import { Command } from 'commander';
import { type CliContext, printJson, println } from '../cli-context';
import { nodesView } from '../output/cluster.view';
import { type JsonOption, withJson } from './command-options';

export function nodesCommand(ctx: CliContext): Command {
  return withJson(new Command('nodes'))
    .description('list the nodes with their state, zone, rack, capacity and last heartbeat')
    .action(async (options: JsonOption) => {
      const nodes = await ctx.api().nodes();
      if (options.json) printJson(ctx.io, nodes);
      else println(ctx.io, nodesView(nodes, ctx.now()));
    });
}
