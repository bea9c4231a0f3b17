import { z } from 'zod';
import { type BaseConfig, loadBaseConfig, parseEnv } from '@tessera/service-kit';

export interface CoordinatorConfig extends BaseConfig {
  /** Rebalance onto a node that joins with no replicas. */
  autoRebalance: boolean;
  maxMovesPerNode: number;
  maxMovesPerCluster: number;
}

const positiveInt = (what: string) =>
  z.coerce.number({ error: `expected ${what}` }).int(`expected ${what}`).min(1, `expected ${what}`);

export function loadCoordinatorConfig(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  const base = loadBaseConfig('coordinator', env);
  const e = parseEnv(
    {
      TESSERA_AUTO_REBALANCE: z.enum(['true', 'false']).default('true'),
      TESSERA_MAX_MOVES_PER_NODE: positiveInt('a positive integer').default(8),
      TESSERA_MAX_MOVES_PER_CLUSTER: positiveInt('a positive integer').default(64),
    },
    env,
  );
  return {
    ...base,
    autoRebalance: e.TESSERA_AUTO_REBALANCE === 'true',
    maxMovesPerNode: e.TESSERA_MAX_MOVES_PER_NODE,
    maxMovesPerCluster: e.TESSERA_MAX_MOVES_PER_CLUSTER,
  };
}
