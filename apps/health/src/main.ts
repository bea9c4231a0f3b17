import 'reflect-metadata';
import { HEALTH_ENTITIES } from '@tessera/persistence';
import { main, runService } from '@tessera/service-kit';
import { loadHealthConfig } from './config/health.config';
import { HealthModule } from './health.module';

main('health', async () =>
  runService({
    config: loadHealthConfig(),
    module: HealthModule,
    schema: 'health',
    entities: HEALTH_ENTITIES,
  }),
);
