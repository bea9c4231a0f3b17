import { type LivenessThresholds, type PhiAccrualOptions } from '@tessera/failure-detector';
import { type BaseConfig, ConfigError, loadBaseConfig, parseEnv } from '@tessera/service-kit';
import { z } from 'zod';

function intVar(min: number, max: number) {
  const message = `expected an integer ${min}–${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
}

function phiVar() {
  const message = 'expected a number 0.1–100';
  return z.coerce.number({ error: message }).min(0.1, message).max(100, message);
}

/** Detector settings (all optional; the defaults fit heartbeats every 200 ms). */
export const healthEnvSchema = {
  /** The interval nodes heartbeat at: seeds the detector's window before real samples exist. */
  TESSERA_HEARTBEAT_INTERVAL_MS: intVar(10, 60_000).default(200),
  /** How often the detector is evaluated. */
  TESSERA_HEALTH_TICK_MS: intVar(5, 1_000).default(50),
  TESSERA_HEALTH_SUSPECT_PHI: phiVar().default(3),
  TESSERA_HEALTH_DEAD_PHI: phiVar().default(8),
  TESSERA_HEALTH_ALIVE_PHI: phiVar().default(1),
  /** Heartbeats in a row a DEAD node must send before it is ALIVE again. */
  TESSERA_HEALTH_REVIVE_HEARTBEATS: intVar(1, 100).default(3),
  /** Silence tolerated on top of the mean interval (default 1.25 × the interval). */
  TESSERA_HEALTH_ACCEPTABLE_PAUSE_MS: intVar(0, 600_000).optional(),
  /** Floor of the interval std-dev (default half the interval). */
  TESSERA_HEALTH_MIN_STD_DEV_MS: intVar(1, 600_000).optional(),
  /**
   * A tick this late means the monitor itself stalled: the heartbeats that queued meanwhile are
   * read before anyone is judged, and the intervals around the stall are not sampled.
   */
  TESSERA_HEALTH_MAX_LOOP_LAG_MS: intVar(1, 60_000).default(20),
  /**
   * After health's NATS connection comes back from an outage (it heard nobody meanwhile), how
   * long nodes get to reconnect and heartbeat before anyone can be suspected again.
   */
  TESSERA_HEALTH_RECONNECT_GRACE_MS: intVar(0, 600_000).default(2_000),
};

export interface LivenessSettings {
  heartbeatIntervalMs: number;
  tickMs: number;
  maxLoopLagMs: number;
  reconnectGraceMs: number;
  thresholds: LivenessThresholds;
  detector: Partial<PhiAccrualOptions>;
}

export interface HealthConfig extends BaseConfig {
  liveness: LivenessSettings;
}

/** Base config plus validated detector settings; a bad value is one line naming the variable. */
export function loadHealthConfig(env: NodeJS.ProcessEnv = process.env): HealthConfig {
  const base = loadBaseConfig('health', env);
  const e = parseEnv(healthEnvSchema, env);
  if (e.TESSERA_HEALTH_DEAD_PHI <= e.TESSERA_HEALTH_SUSPECT_PHI) {
    throw new ConfigError(
      `invalid environment: TESSERA_HEALTH_DEAD_PHI: must be greater than TESSERA_HEALTH_SUSPECT_PHI (${e.TESSERA_HEALTH_SUSPECT_PHI}) (got "${e.TESSERA_HEALTH_DEAD_PHI}")`,
    );
  }
  if (e.TESSERA_HEALTH_ALIVE_PHI > e.TESSERA_HEALTH_SUSPECT_PHI) {
    throw new ConfigError(
      `invalid environment: TESSERA_HEALTH_ALIVE_PHI: must not exceed TESSERA_HEALTH_SUSPECT_PHI (${e.TESSERA_HEALTH_SUSPECT_PHI}) (got "${e.TESSERA_HEALTH_ALIVE_PHI}")`,
    );
  }
  const interval = e.TESSERA_HEARTBEAT_INTERVAL_MS;
  return {
    ...base,
    liveness: {
      heartbeatIntervalMs: interval,
      tickMs: e.TESSERA_HEALTH_TICK_MS,
      maxLoopLagMs: e.TESSERA_HEALTH_MAX_LOOP_LAG_MS,
      reconnectGraceMs: e.TESSERA_HEALTH_RECONNECT_GRACE_MS,
      thresholds: {
        suspectPhi: e.TESSERA_HEALTH_SUSPECT_PHI,
        deadPhi: e.TESSERA_HEALTH_DEAD_PHI,
        alivePhi: e.TESSERA_HEALTH_ALIVE_PHI,
        reviveHeartbeats: e.TESSERA_HEALTH_REVIVE_HEARTBEATS,
      },
      // Scaled with the interval, so the library's defaults (tuned for 200 ms) keep their meaning.
      detector: {
        firstHeartbeatEstimateMs: interval,
        acceptableHeartbeatPauseMs:
          e.TESSERA_HEALTH_ACCEPTABLE_PAUSE_MS ?? Math.round(interval * 1.25),
        minStdDeviationMs: e.TESSERA_HEALTH_MIN_STD_DEV_MS ?? Math.max(1, Math.round(interval / 2)),
        maxSampleIntervalMs: interval * 10,
      },
    },
  };
}
