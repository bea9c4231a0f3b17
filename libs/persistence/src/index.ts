export * from './data-source';
export * from './outbox';
export * from './migrations';
export * from './entities/coordinator.entities';
export * from './entities/service.entities';
export * from './lease';
