import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource, type EntityManager } from 'typeorm';
import { Lease } from '@tessera/persistence';
import { type BaseConfig, MetricsService, SERVICE_CONFIG } from '@tessera/service-kit';

export const RECOVERY_ROLE = 'active-recovery';

export interface RecoveryStatus {
  instance: string;
  active: boolean;
  term: string | null;
}

/**
 * The active-recovery lease. Every recovery instance serves reads; only the holder consumes
 * liveness events and runs operations, and each operation write fences on the recovery term in
 * its own transaction, so a paused or partitioned ex-holder cannot change anything. Timing is
 * the library's default (3 s TTL, renewed every 500 ms): a standby takes over ≤ ~3.5 s after the
 * holder stops renewing, at once after a clean shutdown.
 */
@Injectable()
export class RecoveryLease implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly lease: Lease;

  constructor(
    @InjectDataSource() db: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: BaseConfig,
    private readonly log: PinoLogger,
    metrics: MetricsService,
  ) {
    this.log.setContext(RecoveryLease.name);
    this.lease = new Lease(db, 'recovery', RECOVERY_ROLE, config.instanceId, {}, this.log);
    metrics.gauge(
      'tessera_recovery_active',
      '1 when this instance holds the recovery lease',
      [],
      (g) => {
        g.set(this.lease.isActive ? 1 : 0);
      },
    );
    metrics.gauge(
      'tessera_recovery_term',
      'Recovery term held by this instance (0 when standby)',
      [],
      (g) => {
        g.set(Number(this.lease.term ?? 0n));
      },
    );
  }

  get isActive(): boolean {
    return this.lease.isActive;
  }

  get term(): bigint | null {
    return this.lease.term;
  }

  /** Inside a transaction that writes as the active recovery: FENCED unless the term is ours. */
  fence(m: EntityManager): Promise<bigint> {
    return this.lease.fence(m);
  }

  /** Called with every gain or loss of the lease (not on renewals). */
  onChange(listener: (active: boolean, term: bigint | null) => void): void {
    this.lease.onChange(listener);
  }

  status(): RecoveryStatus {
    return {
      instance: this.config.instanceId,
      active: this.lease.isActive,
      term: this.lease.term?.toString() ?? null,
    };
  }

  onApplicationBootstrap(): void {
    this.lease.start();
  }

  /** Hands the role over at once on a clean shutdown (the standby needs no TTL wait). */
  async onApplicationShutdown(): Promise<void> {
    await this.lease.stop();
  }
}
