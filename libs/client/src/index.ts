export * from './map-source';
export * from './map-events';
export * from './partition-map-client';
export * from './kv-client';
