import {
  type DynamicModule,
  type ExecutionContext,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE, ModuleRef } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { type Logger } from 'pino';
import { type DataSource } from 'typeorm';
import { NetworkManager, OutboxRelay } from '@tessera/messaging';
import { dataSourceOptions, type OwningSchema } from '@tessera/persistence';
import { type BaseConfig } from './config';
import { AuditInterceptor } from './audit.interceptor';
import { ContractValidationPipe } from './contract.pipe';
import { TesseraExceptionFilter } from './exception.filter';
import { DATABASE_ENABLED, HealthController, ReadinessRegistry } from './health';
import { MetricsController, MetricsService } from './metrics';
import { OUTBOX_RELAY, SERVICE_CONFIG } from './tokens';

export interface ServiceKitOptions {
  config: BaseConfig;
  network: NetworkManager;
  logger: Logger;
  /** TypeORM entity classes of the tables this service reads through repositories. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: Function[];
  /** The schema this service owns: enables Postgres and its outbox relay. */
  schema?: OwningSchema;
}

interface PgPool {
  on(event: 'error', listener: () => void): void;
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Starts the outbox relay after boot, stops it and closes NATS last at shutdown. */
@Injectable()
class KitLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly network: NetworkManager,
    private readonly metrics: MetricsService,
    @Optional() @Inject(OUTBOX_RELAY) private readonly relay: OutboxRelay | null,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    const relay = this.relay;
    this.metrics.counterOf('tessera_nats_reconnects_total', 'NATS reconnects', () => this.network.stats.reconnects);
    this.metrics.counterOf('tessera_nats_disconnects_total', 'NATS disconnects', () => this.network.stats.disconnects);
    const pgErrors = this.metrics.counter('tessera_postgres_errors_total', 'Postgres connection errors (pool)');
    const pool = this.postgresPool();
    if (pool) {
      pool.on('error', () => pgErrors.inc());
      this.metrics.gauge('tessera_postgres_pool_connections', 'Postgres pool connections by state', ['state'], (g) => {
        g.set({ state: 'total' }, pool.totalCount);
        g.set({ state: 'idle' }, pool.idleCount);
        g.set({ state: 'waiting' }, pool.waitingCount);
      });
    }
    if (relay) {
      relay.start();
      this.metrics.gauge('tessera_outbox_backlog', 'Events written but not yet relayed', [], async (g) => {
        g.set(await relay.backlog().catch(() => -1));
      });
      this.metrics.counterOf('tessera_outbox_publish_failures_total', 'Event publish failures', () => relay.stats.failures);
    }
  }

  /** node-postgres's pool behind TypeORM, when this service has a database. */
  private postgresPool(): PgPool | null {
    try {
      const ds = this.moduleRef.get<DataSource>(getDataSourceToken(), { strict: false });
      const pool = (ds.driver as unknown as { master?: PgPool }).master;
      return pool && typeof pool.on === 'function' ? pool : null;
    } catch {
      return null;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.network.close();
  }
}

/** The throttler guards HTTP only; NATS handlers (heartbeats, reports) must never be throttled here. */
@Injectable()
class HttpThrottlerGuard extends ThrottlerGuard {
  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    return Promise.resolve(context.getType() !== 'http');
  }
}

@Global()
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    const { config, network, schema } = options;
    const database = schema !== undefined;
    return {
      module: ServiceKitModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: { logger: options.logger, autoLogging: false, quietReqLogger: true },
        }),
        TerminusModule.forRoot({ logger: false }),
        // Rate limit per client IP on the HTTP API (NATS handlers are not throttled here).
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: config.rateLimitPerMinute }]),
        ...(database
          ? [
              TypeOrmModule.forRoot({
                ...dataSourceOptions({
                  url: config.databaseUrl,
                  entities: options.entities ?? [],
                  applicationName: `tessera-${config.service}`,
                }),
                retryAttempts: 30,
                retryDelay: 1_000,
              }),
            ]
          : []),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: NetworkManager, useValue: network },
        { provide: DATABASE_ENABLED, useValue: database },
        { provide: APP_FILTER, useClass: TesseraExceptionFilter },
        { provide: APP_PIPE, useClass: ContractValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
        { provide: APP_GUARD, useClass: HttpThrottlerGuard },
        MetricsService,
        ReadinessRegistry,
        database
          ? {
              provide: OUTBOX_RELAY,
              inject: [getDataSourceToken(), PinoLogger, MetricsService],
              useFactory: (ds: DataSource, logger: PinoLogger, metrics: MetricsService) => {
                logger.setContext('OutboxRelay');
                const delay = metrics.histogram(
                  'tessera_outbox_publish_delay_seconds',
                  'From an event’s time (written in its transaction) to its publication on NATS',
                  [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
                  ['subject'],
                );
                return new OutboxRelay(ds, schema, network, logger, {
                  onPublish: (delayMs, subject) => delay.observe({ subject }, delayMs / 1000),
                });
              },
            }
          : { provide: OUTBOX_RELAY, useValue: null },
        KitLifecycle,
      ],
      exports: [SERVICE_CONFIG, NetworkManager, MetricsService, ReadinessRegistry, OUTBOX_RELAY],
    };
  }
}
