import 'reflect-metadata';
import { RECOVERY_ENTITIES } from '@tessera/persistence';
import { main, runService } from '@tessera/service-kit';
import { loadRecoveryConfig } from './config/recovery.config';
import { RecoveryModule } from './recovery.module';

main('recovery', async () =>
  runService({
    config: loadRecoveryConfig(),
    module: RecoveryModule,
    schema: 'recovery',
    entities: RECOVERY_ENTITIES,
  }),
);
