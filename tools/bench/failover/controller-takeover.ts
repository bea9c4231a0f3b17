import { waitFor } from '@tessera/testing';
import { type Fleet } from './fleet';

export interface TakeoverRound {
  round: number;
  killed: string;
  successor: string;
  /** SIGKILL of the active coordinator → the standby's `GET /api/v1/controller` says active. */
  takeoverMs: number;
  termBefore: string;
  termAfter: string;
}

/**
 * SIGKILL the active coordinator and time how long until the standby reports itself active
 * (polled every 20 ms); then restart the killed instance (it comes back as the standby).
 */
export async function controllerTakeoverRound(fleet: Fleet, round: number): Promise<TakeoverRound> {
  const { cluster } = fleet;
  const { instance: old, status: before } = await cluster.activeCoordinator(30_000);
  const killedAt = Date.now();
  await cluster.kill(old.id);
  const { instance: next, status: after } = await waitFor(
    'the standby coordinator active',
    () => cluster.activeInstance('coordinator'),
    { timeoutMs: 30_000, intervalMs: 20 },
  );
  const takeoverMs = Date.now() - killedAt;
  cluster.startInstance('coordinator', old.id);
  await cluster.waitReady();
  return {
    round,
    killed: old.id,
    successor: next.id,
    takeoverMs,
    termBefore: before.term ?? '',
    termAfter: after.term ?? '',
  };
}
