import { Command } from 'commander';
import type { OperationV1 } from '@tessera/contracts';
import { type ApiClient, ApiError } from '../api/api-client';
import { type CliContext, printJson, println } from '../cli-context';
import { summarizeCluster } from '../cluster/cluster-health';
import { statusView } from '../output/cluster.view';
import { type JsonOption, withJson } from './command-options';

export function statusCommand(ctx: CliContext): Command {
  return withJson(new Command('status'))
    .description('nodes by state, partitions led / under-replicated / offline, operations running')
    .action(async (options: JsonOption) => {
      const api = ctx.api();
      const [nodes, map, operations] = await Promise.all([
        api.nodes(),
        api.map(),
        operationsOrError(api),
      ]);
      const failed = operations instanceof ApiError ? operations : undefined;
      const status = summarizeCluster(
        api.baseUrl,
        nodes,
        map,
        operations instanceof ApiError ? [] : operations,
      );
      const warnings = failed ? [`operations unavailable: ${failed.message}`] : [];
      if (options.json) {
        printJson(ctx.io, { ...status, warnings });
        return;
      }
      println(ctx.io, statusView(status, ctx.now()));
      for (const warning of warnings) println(ctx.io, `warning: ${warning}`);
    });
}

/**
 * Status matters most when something is broken: an operations backend that answers with an
 * error must not hide the nodes and partitions. An unreachable coordinator still fails.
 */
async function operationsOrError(api: ApiClient): Promise<OperationV1[] | ApiError> {
  try {
    return await api.operations();
  } catch (error: unknown) {
    if (error instanceof ApiError && !error.unreachable) return error;
    throw error;
  }
}
