import { InitCoordinator1764130000000 } from './1764130000000-init-coordinator';
import { InitHealth1764130000001 } from './1764130000001-init-health';
import { InitConsensus1764130000002 } from './1764130000002-init-consensus';
import { InitReplication1764130000003 } from './1764130000003-init-replication';
import { InitRecovery1764130000004 } from './1764130000004-init-recovery';
import { RecoveryDueAt1764130000005 } from './1764130000005-recovery-due-at';
import { ReplicationNodeReport1764130000006 } from './1764130000006-replication-node-report';
import { OutboxDirectClaim1764130000007 } from './1764130000007-outbox-direct-claim';
import { HotTableFillfactor1764130000008 } from './1764130000008-hot-table-fillfactor';
import { PartitionCreatedEpoch1764130000009 } from './1764130000009-partition-created-epoch';

/** Given as classes, not globs: works in webpack bundles and in jest alike. */
export const ALL_MIGRATIONS = [
  InitCoordinator1764130000000,
  InitHealth1764130000001,
  InitConsensus1764130000002,
  InitReplication1764130000003,
  InitRecovery1764130000004,
  RecoveryDueAt1764130000005,
  ReplicationNodeReport1764130000006,
  OutboxDirectClaim1764130000007,
  HotTableFillfactor1764130000008,
  PartitionCreatedEpoch1764130000009,
];
