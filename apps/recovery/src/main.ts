import 'reflect-metadata';
import { RECOVERY_ENTITIES } from '@tessera/persistence';
import { loadBaseConfig, main, runService } from '@tessera/service-kit';
import { RecoveryModule } from './recovery.module';

main('recovery', async () =>
  runService({
    config: loadBaseConfig('recovery'),
    module: RecoveryModule,
    schema: 'recovery',
    entities: RECOVERY_ENTITIES,
  }),
);
