export * from './test-env';
export * from './processes';
