import 'reflect-metadata';
import { COORDINATOR_ENTITIES } from '@tessera/persistence';
import { main, runService } from '@tessera/service-kit';
import { loadCoordinatorConfig } from './config/coordinator.config';
import { CoordinatorModule } from './coordinator.module';

main('coordinator', async () =>
  runService({
    config: loadCoordinatorConfig(),
    module: CoordinatorModule,
    schema: 'coordinator',
    entities: COORDINATOR_ENTITIES,
    openApi: {
      title: 'Tessera admin API',
      description:
        'Nodes, resources, the partition map and operations of a Tessera cluster. ' +
        'Errors are JSON `{ statusCode, code, message }`; 400 invalid input, 401/403 auth, 404 unknown names, 409 conflicts.',
    },
  }),
);
