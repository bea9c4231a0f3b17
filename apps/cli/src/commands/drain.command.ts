import { Command } from 'commander';
import { type CliContext, printJson, println } from '../cli-context';
import { operationOutcome } from '../output/operation.view';
import { drainView } from '../output/resource.view';
import { type JsonOption, positiveSeconds, withJson } from './command-options';
import { DEFAULT_POLL_SECONDS, assertSucceeded, waitForOperation } from './operation-wait';

interface DrainOptions extends JsonOption {
  wait?: boolean;
  interval: number;
}

export function drainCommand(ctx: CliContext): Command {
  return withJson(new Command('drain'))
    .description('move every replica and leadership off a node (for maintenance or removal)')
    .argument('<node>', 'node id')
    .option('--wait', 'wait until the node is empty, with a progress bar')
    .option(
      '--interval <seconds>',
      'poll interval for --wait',
      positiveSeconds,
      DEFAULT_POLL_SECONDS,
    )
    .action(async (nodeId: string, options: DrainOptions) => {
      const reply = await ctx.api().drain(nodeId);
      const json = options.json === true;
      if (!options.wait || !reply.operationId) {
        if (json) printJson(ctx.io, reply);
        else println(ctx.io, drainView(reply));
        return;
      }
      if (!json) println(ctx.io, drainView(reply));
      const operation = await waitForOperation(ctx, reply.operationId, {
        label: `drain ${nodeId}`,
        json,
        intervalMs: options.interval * 1000,
      });
      if (json) printJson(ctx.io, { ...reply, operation });
      else println(ctx.io, operationOutcome(operation, ctx.now()));
      assertSucceeded(operation);
    });
}

export function undrainCommand(ctx: CliContext): Command {
  return withJson(new Command('undrain'))
    .description('let a drained node take replicas again')
    .argument('<node>', 'node id')
    .action(async (nodeId: string, options: JsonOption) => {
      const reply = await ctx.api().undrain(nodeId);
      if (options.json) printJson(ctx.io, reply);
      else
        println(ctx.io, `Node ${reply.node.id} is ${reply.node.state}: it takes replicas again.`);
    });
}
