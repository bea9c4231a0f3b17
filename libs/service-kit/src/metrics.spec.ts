import 'reflect-metadata';
import { MetricsService } from './metrics';
import { type BaseConfig } from './config';

describe(MetricsService.name, () => {
  const config = { service: 'coordinator', cluster: 'c1' } as BaseConfig;

  it('exposes a running total kept elsewhere as a Prometheus counter that only adds', async () => {
    const sut = new MetricsService(config);
    let reconnects = 0;
    sut.counterOf('tessera_nats_reconnects_total', 'NATS reconnects', () => reconnects);
    reconnects = 2;
    expect(await sut.registry.getSingleMetricAsString('tessera_nats_reconnects_total')).toContain(
      '# TYPE tessera_nats_reconnects_total counter',
    );
    reconnects = 5;
    const text = await sut.registry.getSingleMetricAsString('tessera_nats_reconnects_total');
    expect(text).toContain('tessera_nats_reconnects_total{service="coordinator",cluster="c1"} 5');
  });
});
