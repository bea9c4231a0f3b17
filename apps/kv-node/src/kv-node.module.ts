import { DynamicModule, Module } from '@nestjs/common';
import { NodeAgentService } from './agent/node-agent.service';
import { KV_CONFIG, KvNodeConfig } from './config/kv-config';
import { KvLeaderService } from './kv/kv-leader.service';
import { KvService } from './kv/kv.service';
import { ReplicaManager } from './replication/replica-manager.service';
import { DATA_DIR_CLAIM, DataDirClaim } from './storage/data-dir';
import { StoreRegistry } from './storage/store-registry.service';

/** kv-node: the example participant, a key-value store on top of the node agent. */
@Module({})
export class KvNodeModule {
  static forRoot(config: KvNodeConfig, claim: DataDirClaim): DynamicModule {
    return {
      module: KvNodeModule,
      providers: [
        { provide: KV_CONFIG, useValue: config },
        { provide: DATA_DIR_CLAIM, useValue: claim },
        StoreRegistry,
        NodeAgentService,
        ReplicaManager,
        KvService,
        KvLeaderService,
      ],
    };
  }
}
