export * from './epoch-store';
export * from './role-table';
export * from './partition-node';
