import { Controller, Get, Header, Inject, Injectable } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type BaseConfig } from './config';
import { SERVICE_CONFIG } from './tokens';

/** One Prometheus registry per process, labelled with service and cluster. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor(@Inject(SERVICE_CONFIG) config: BaseConfig) {
    this.registry.setDefaultLabels({ service: config.service, cluster: config.cluster });
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_process_' });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter;
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A counter that mirrors a running total kept elsewhere (e.g. NetworkManager.stats): at each
   * scrape it adds what the total grew by, so it is a true counter (`rate()`, resets on restart).
   */
  counterOf(name: string, help: string, total: () => number): Counter {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Counter;
    let counted = 0;
    return new Counter({
      name,
      help,
      registers: [this.registry],
      collect(this: Counter) {
        const now = total();
        if (now > counted) this.inc(now - counted);
        counted = Math.max(counted, now);
      },
    });
  }

  gauge(name: string, help: string, labelNames: string[] = [], collect?: (g: Gauge) => void | Promise<void>): Gauge {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Gauge;
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect ? { collect(this: Gauge) { return collect(this); } } : {}),
    });
  }

  histogram(name: string, help: string, buckets: number[], labelNames: string[] = []): Histogram {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as Histogram;
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
