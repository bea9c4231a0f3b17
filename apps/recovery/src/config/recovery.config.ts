import { z } from 'zod';
import { MAX_GRACE_MS } from '@tessera/contracts';
import { type BaseConfig, loadBaseConfig, parseEnv } from '@tessera/service-kit';

export interface RecoveryConfig extends BaseConfig {
  /**
   * How long a DEAD node keeps its replicas before they are re-placed: long enough for a restart
   * to come back and catch up (cheap), short enough that RF is not down for long.
   */
  graceMs: number;
}

export const DEFAULT_GRACE_MS = 30_000;

export function loadRecoveryConfig(env: NodeJS.ProcessEnv = process.env): RecoveryConfig {
  const base = loadBaseConfig('recovery', env);
  const message = `expected milliseconds 0–${MAX_GRACE_MS}`;
  const e = parseEnv(
    {
      TESSERA_RECOVERY_GRACE_MS: z.coerce
        .number({ error: message })
        .int(message)
        .min(0, message)
        .max(MAX_GRACE_MS, message)
        .default(DEFAULT_GRACE_MS),
    },
    env,
  );
  return { ...base, graceMs: e.TESSERA_RECOVERY_GRACE_MS };
}
