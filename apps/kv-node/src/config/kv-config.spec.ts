import 'reflect-metadata';
import { ConfigError } from '@tessera/service-kit';
import { loadKvConfig } from './kv-config';

describe(loadKvConfig.name, () => {
  const base = { TESSERA_NODE_ID: 'kv-a', KV_DATA_DIR: '/tmp/kv-a' };

  it('applies the defaults', () => {
    expect(loadKvConfig(base)).toEqual({
      nodeId: 'kv-a',
      zone: 'default',
      rack: 'default',
      capacity: 1,
      tags: [],
      dataDir: '/tmp/kv-a',
      minIsr: 2,
      ackTimeoutMs: 5_000,
      leaseMs: 600,
      catchUpBytesPerSec: 64 * 1024 * 1024,
    });
  });

  it('reads every variable', () => {
    const config = loadKvConfig({
      ...base,
      TESSERA_NODE_ZONE: 'z1',
      TESSERA_NODE_RACK: 'r2',
      TESSERA_NODE_CAPACITY: '4',
      TESSERA_NODE_TAGS: 'ssd, fast,,ssd',
      KV_MIN_ISR: '1',
      KV_ACK_TIMEOUT_MS: '2000',
      TESSERA_NODE_LEASE_MS: '400',
      KV_CATCH_UP_BYTES_PER_SEC: '0',
    });
    expect(config).toMatchObject({
      catchUpBytesPerSec: 0,
      zone: 'z1',
      rack: 'r2',
      capacity: 4,
      tags: ['ssd', 'fast'],
      minIsr: 1,
      ackTimeoutMs: 2_000,
      leaseMs: 400,
    });
  });

  it.each([
    ['TESSERA_NODE_ID', { KV_DATA_DIR: '/tmp/x' }],
    ['TESSERA_NODE_ID', { ...base, TESSERA_NODE_ID: 'a.b' }],
    ['KV_DATA_DIR', { TESSERA_NODE_ID: 'kv-a' }],
    ['TESSERA_NODE_CAPACITY', { ...base, TESSERA_NODE_CAPACITY: '0' }],
    ['TESSERA_NODE_CAPACITY', { ...base, TESSERA_NODE_CAPACITY: '1.5' }],
    ['TESSERA_NODE_CAPACITY', { ...base, TESSERA_NODE_CAPACITY: 'many' }],
    ['TESSERA_NODE_TAGS', { ...base, TESSERA_NODE_TAGS: 'ssd,bad tag' }],
    ['TESSERA_NODE_ZONE', { ...base, TESSERA_NODE_ZONE: 'z*' }],
    ['KV_MIN_ISR', { ...base, KV_MIN_ISR: '0' }],
    ['KV_MIN_ISR', { ...base, KV_MIN_ISR: 'two' }],
    ['KV_ACK_TIMEOUT_MS', { ...base, KV_ACK_TIMEOUT_MS: '10' }],
    ['TESSERA_NODE_LEASE_MS', { ...base, TESSERA_NODE_LEASE_MS: '-5' }],
  ])('names %s when it is bad or missing', (variable, env) => {
    expect(() => loadKvConfig(env)).toThrow(ConfigError);
    expect(() => loadKvConfig(env)).toThrow(new RegExp(`^invalid environment: ${variable}: `));
  });
});
