import 'reflect-metadata';
import { loadBaseConfig, main, runService } from '@tessera/service-kit';
import { loadKvConfig } from './config/kv-config';
import { KvNodeModule } from './kv-node.module';
import { claimDataDir } from './storage/data-dir';

main('kv-node', async () => {
  const config = loadBaseConfig('kv-node');
  const kv = loadKvConfig();
  // Before anything connects: a data directory of another node, or one in use, stops the start.
  const claim = claimDataDir(kv.dataDir, kv.nodeId);
  return runService({ config, module: KvNodeModule.forRoot(kv, claim) });
});
