import { Injectable } from '@nestjs/common';
import { type RoleAssignmentV1 } from '@tessera/contracts';
import { type LogRecord } from '../storage/partition-store';

/**
 * The replication seam. A put is acknowledged only after `replicate` resolves; API.md requires
 * that to mean "every ISR member has the record". The replication issue provides the real
 * implementation (ship to followers, wait for their acks, NOT_ENOUGH_REPLICAS on shortfall).
 */
export interface WriteReplicator {
  replicate(assignment: RoleAssignmentV1, record: LogRecord): Promise<void>;
}

export const WRITE_REPLICATOR = Symbol('WRITE_REPLICATOR');

/**
 * Until replication lands: the leader's own fsync is the only copy. Correct for a
 * single-replica ISR; with followers, an acknowledged write can be lost on failover.
 */
@Injectable()
export class LocalOnlyReplicator implements WriteReplicator {
  async replicate(): Promise<void> {
    // Nothing to wait for yet.
  }
}
