import { Controller, Get, Inject, Injectable, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { NetworkManager } from '@tessera/messaging';

/** Extra readiness a service adds (e.g. "recovered its state"); see ReadinessRegistry.add. */
export type ReadinessCheck = () => boolean;

@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  entries(): [string, ReadinessCheck][] {
    return [...this.checks.entries()];
  }
}

export const DATABASE_ENABLED = Symbol('DATABASE_ENABLED');

/** `/health/live`: the process runs. `/health/ready`: NATS connected, Postgres answers, service ready. */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly network: NetworkManager,
    private readonly readiness: ReadinessRegistry,
    @Inject(DATABASE_ENABLED) private readonly databaseEnabled: boolean,
    @Optional() private readonly db?: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [
      async () => {
        const indicator = this.indicators.check('nats');
        return this.network.isConnected ? indicator.up() : indicator.down({ reason: 'disconnected' });
      },
      ...this.readiness.entries().map(([name, check]) => async () => {
        const indicator = this.indicators.check(name);
        return check() ? indicator.up() : indicator.down();
      }),
    ];
    if (this.databaseEnabled && this.db) {
      const db = this.db;
      checks.push(() => db.pingCheck('database', { timeout: 2_000 }));
    }
    return this.health.check(checks);
  }
}
