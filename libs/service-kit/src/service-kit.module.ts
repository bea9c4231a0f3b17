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
    this.metrics.gauge('tessera_nats_reconnects_total', 'NATS reconnects since start', [], (g) => {
      g.set(this.network.stats.reconnects);
    });
    this.metrics.gauge('tessera_nats_disconnects_total', 'NATS disconnects since start', [], (g) => {
      g.set(this.network.stats.disconnects);
    });
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
      this.metrics.gauge('tessera_outbox_publish_failures_total', 'Event publish failures', [], (g) => {
        g.set(relay.stats.failures);
      });
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
              inject: [getDataSourceToken(), PinoLogger],
              useFactory: (ds: DataSource, logger: PinoLogger) => {
                logger.setContext('OutboxRelay');
                return new OutboxRelay(ds, schema, network, logger);
              },
            }
          : { provide: OUTBOX_RELAY, useValue: null },
        KitLifecycle,
      ],
      exports: [SERVICE_CONFIG, NetworkManager, MetricsService, ReadinessRegistry, OUTBOX_RELAY],
    };
  }
}
