// class-transformer's @Type reads decorator metadata: load the polyfill wherever contracts are used.
import 'reflect-metadata';
export * from './common/errors';
export * from './common/states';
export * from './common/validate';
export * from './common/identifiers';
export * from './subjects';
export * from './registry';
export * from './node/node.messages';
export * from './partition/partition.messages';
export * from './replication/replication.messages';
export * from './replica/replica.messages';
export * from './kv/kv.messages';
export * from './operations/operations.messages';
export * from './events/events';
export * from './api/admin-api';
export * from './kv/partitioner';
