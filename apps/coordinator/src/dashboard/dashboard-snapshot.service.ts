import { Inject, Injectable } from '@nestjs/common';
import { type BaseConfig, SERVICE_CONFIG } from '@tessera/service-kit';
import { MapService } from '../map/map.service';
import { NodeRegistry } from '../node/node-registry.service';
import { OperationLog } from '../operation/operation-log.service';
import { PartitionCoordinator } from '../resource/partition-coordinator.service';
import { buildSnapshot, type DashboardSnapshotV1 } from './dashboard-snapshot';

/** Operations read per snapshot (coordinator's and recovery's together), before selection. */
const OPERATIONS_READ = 100;

/** Builds a full dashboard snapshot from the coordinator's own read models. */
@Injectable()
export class DashboardSnapshots {
  constructor(
    private readonly nodes: NodeRegistry,
    private readonly maps: MapService,
    private readonly operations: OperationLog,
    private readonly resources: PartitionCoordinator,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
  ) {}

  async build(): Promise<DashboardSnapshotV1> {
    const at = new Date();
    const [nodes, map, resources, operations] = await Promise.all([
      this.nodes.list(),
      this.maps.view(),
      this.resources.list(),
      this.operations.list(OPERATIONS_READ),
    ]);
    return buildSnapshot({ cluster: this.config.cluster, at, nodes, map, resources, operations });
  }
}
