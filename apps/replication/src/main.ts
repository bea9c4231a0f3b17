import 'reflect-metadata';
import { REPLICATION_ENTITIES } from '@tessera/persistence';
import { loadBaseConfig, main, runService } from '@tessera/service-kit';
import { ReplicationModule } from './replication.module';

main('replication', async () =>
  runService({
    config: loadBaseConfig('replication'),
    module: ReplicationModule,
    schema: 'replication',
    entities: REPLICATION_ENTITIES,
  }),
);
