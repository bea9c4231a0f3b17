import 'reflect-metadata';
import { ConfigError } from '@tessera/service-kit';
import { loadHealthConfig } from './health.config';

describe(loadHealthConfig.name, () => {
  it('defaults to a detector tuned for 200 ms heartbeats', () => {
    const sut = loadHealthConfig({});
    expect(sut.liveness).toEqual({
      heartbeatIntervalMs: 200,
      tickMs: 50,
      maxLoopLagMs: 20,
      reconnectGraceMs: 2_000,
      thresholds: { suspectPhi: 3, deadPhi: 8, alivePhi: 1, reviveHeartbeats: 3 },
      detector: {
        firstHeartbeatEstimateMs: 200,
        acceptableHeartbeatPauseMs: 250,
        minStdDeviationMs: 100,
        maxSampleIntervalMs: 2_000,
      },
    });
    expect(sut.httpPort).toBe(3001);
  });

  it('scales the detector with the heartbeat interval unless told otherwise', () => {
    const sut = loadHealthConfig({
      TESSERA_HEARTBEAT_INTERVAL_MS: '1000',
      TESSERA_HEALTH_MIN_STD_DEV_MS: '80',
    });
    expect(sut.liveness.detector).toEqual({
      firstHeartbeatEstimateMs: 1_000,
      acceptableHeartbeatPauseMs: 1_250,
      minStdDeviationMs: 80,
      maxSampleIntervalMs: 10_000,
    });
  });

  it.each([
    [{ TESSERA_HEARTBEAT_INTERVAL_MS: 'fast' }, 'TESSERA_HEARTBEAT_INTERVAL_MS'],
    [{ TESSERA_HEARTBEAT_INTERVAL_MS: '0' }, 'TESSERA_HEARTBEAT_INTERVAL_MS'],
    [{ TESSERA_HEALTH_TICK_MS: '2.5' }, 'TESSERA_HEALTH_TICK_MS'],
    [{ TESSERA_HEALTH_RECONNECT_GRACE_MS: '-1' }, 'TESSERA_HEALTH_RECONNECT_GRACE_MS'],
    [{ TESSERA_HEALTH_DEAD_PHI: '2' }, 'TESSERA_HEALTH_DEAD_PHI'],
    [{ TESSERA_HEALTH_ALIVE_PHI: '5' }, 'TESSERA_HEALTH_ALIVE_PHI'],
    [{ TESSERA_HEALTH_REVIVE_HEARTBEATS: '0' }, 'TESSERA_HEALTH_REVIVE_HEARTBEATS'],
  ])('refuses %j with one line naming the variable', (env, variable) => {
    expect(() => loadHealthConfig(env)).toThrow(ConfigError);
    expect(() => loadHealthConfig(env)).toThrow(new RegExp(`^invalid environment: ${variable}: `));
  });
});
