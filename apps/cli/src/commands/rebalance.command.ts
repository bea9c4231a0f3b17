import { Command } from 'commander';
import { type CliContext, printJson, println } from '../cli-context';
import { operationOutcome } from '../output/operation.view';
import { planView } from '../output/resource.view';
import { type JsonOption, positiveSeconds, withJson } from './command-options';
import { DEFAULT_POLL_SECONDS, assertSucceeded, waitForOperation } from './operation-wait';

interface RebalanceOptions extends JsonOption {
  dryRun?: boolean;
  wait?: boolean;
  interval: number;
}

export function rebalanceCommand(ctx: CliContext): Command {
  return withJson(new Command('rebalance'))
    .description('move replicas and leaders of a resource towards an even spread')
    .argument('<name>', 'resource name')
    .option('--dry-run', 'only print the plan; change nothing')
    .option('--wait', 'wait until the rebalance finishes, with a progress bar')
    .option(
      '--interval <seconds>',
      'poll interval for --wait',
      positiveSeconds,
      DEFAULT_POLL_SECONDS,
    )
    .action(async (name: string, options: RebalanceOptions) => {
      const plan = await ctx.api().rebalance(name, options.dryRun === true);
      const json = options.json === true;
      if (!options.wait || plan.dryRun || !plan.operationId) {
        if (json) printJson(ctx.io, plan);
        else println(ctx.io, planView(plan));
        return;
      }
      if (!json) println(ctx.io, planView(plan));
      const operation = await waitForOperation(ctx, plan.operationId, {
        label: `rebalance ${name}`,
        json,
        intervalMs: options.interval * 1000,
      });
      if (json) printJson(ctx.io, { ...plan, operation });
      else println(ctx.io, operationOutcome(operation, ctx.now()));
      assertSucceeded(operation);
    });
}
