import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import { Lease } from '@tessera/persistence';
import { type BaseConfig, MetricsService, SERVICE_CONFIG } from '@tessera/service-kit';

export const CONTROLLER_ROLE = 'active-coordinator';

/**
 * The active-coordinator lease. Every coordinator instance serves the API; only the lease holder
 * runs the background drivers (reconciliation, and later migrations), and each of their writes
 * fences on the controller term in its own transaction.
 */
@Injectable()
export class ControllerLease implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly lease: Lease;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    private readonly log: PinoLogger,
    metrics: MetricsService,
  ) {
    this.log.setContext(ControllerLease.name);
    this.lease = new Lease(db, 'coordinator', CONTROLLER_ROLE, config.instanceId, {}, this.log);
    metrics.gauge('tessera_controller_active', '1 when this instance holds the controller lease', [], (g) => {
      g.set(this.lease.isActive ? 1 : 0);
    });
    metrics.gauge('tessera_controller_term', 'Controller term held by this instance (0 when standby)', [], (g) => {
      g.set(Number(this.lease.term ?? 0n));
    });
  }

  get isActive(): boolean {
    return this.lease.isActive;
  }

  get term(): bigint | null {
    return this.lease.term;
  }

  fence(m: EntityManager): Promise<bigint> {
    return this.lease.fence(m);
  }

  status(): { instance: string; active: boolean; term: string | null } {
    return { instance: this.config.instanceId, active: this.lease.isActive, term: this.lease.term?.toString() ?? null };
  }

  onApplicationBootstrap(): void {
    this.lease.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.lease.stop();
  }
}
