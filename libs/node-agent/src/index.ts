export * from './epoch-store';
export * from './role-table';
export * from './partition-node';
export * from './lease';
export * from './replication/leader-epoch-cache';
export * from './replication/high-watermark';
export * from './heartbeat/heartbeat-channel';
export * from './heartbeat/thread-heartbeats';
