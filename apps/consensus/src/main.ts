import 'reflect-metadata';
import { CONSENSUS_ENTITIES } from '@tessera/persistence';
import { loadBaseConfig, main, runService } from '@tessera/service-kit';
import { ConsensusModule } from './consensus.module';

main('consensus', async () =>
  runService({
    config: loadBaseConfig('consensus'),
    module: ConsensusModule,
    schema: 'consensus',
    entities: CONSENSUS_ENTITIES,
  }),
);
