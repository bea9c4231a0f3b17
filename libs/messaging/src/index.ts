export * from './nats-config';
export * from './network-manager';
export * from './outbox-relay';
export * from './nest-transport';
export * from './nats-permissions';
export * from './consensus-queries';
export * from './correlation';
