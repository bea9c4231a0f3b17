import { type DynamicModule, type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger, PinoLogger } from 'nestjs-pino';
import { type NextFunction, type Request, type Response } from 'express';
import { currentCorrelationId, NetworkManager, TesseraTransport, withCorrelation } from '@tessera/messaging';
import { runMigrations, type OwningSchema } from '@tessera/persistence';
import { type BaseConfig, ConfigError } from './config';
import { createRootLogger } from './logger';
import { ServiceKitModule } from './service-kit.module';

export interface ServiceSpec<C extends BaseConfig> {
  config: C;
  /** The app's root feature module (it may read the config through SERVICE_CONFIG). */
  module: Type | DynamicModule;
  schema?: OwningSchema;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: Function[];
  /** Serve OpenAPI at /docs and /api/v1/openapi.json. */
  openApi?: { title: string; description: string };
}

/**
 * Boots one Tessera service: validated config, JSON logs, NATS (with the Nest transport in the
 * service's queue group), Postgres, /health and /metrics, clean shutdown on SIGTERM/SIGINT.
 */
export async function runService<C extends BaseConfig>(spec: ServiceSpec<C>): Promise<INestApplication> {
  const { config } = spec;
  const bootLog = createRootLogger(config);
  process.on('unhandledRejection', (reason) => bootLog.error({ err: reason }, 'unhandled rejection'));

  if (spec.schema && config.migrate) {
    const applied = await runMigrations(config.databaseUrl);
    bootLog.info({ applied }, 'migrations done');
  }

  const network = new NetworkManager(config.cluster, config.nats, `tessera-${config.service}-${config.instanceId}`, bootLog);
  await network.connect();
  if (spec.schema) await network.ensureEventStream();

  @Module({
    imports: [
      ServiceKitModule.forRoot({ config, network, logger: bootLog, schema: spec.schema, entities: spec.entities }),
      spec.module,
    ],
  })
  class RootModule {}

  const app = await NestFactory.create<NestExpressApplication>(RootModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: '1mb' });
  // HTTP requests get a correlation id (X-Request-Id in, and echoed out) that follows them over NATS.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.headers['x-request-id'];
    withCorrelation(typeof header === 'string' ? header : undefined, () => {
      res.setHeader('X-Request-Id', currentCorrelationId() ?? '');
      next();
    });
  });
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT'], bootLog);

  if (spec.openApi) {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle(spec.openApi.title)
        .setDescription(spec.openApi.description)
        .setVersion('v1')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'api/v1/openapi.json' });
  }

  const transportLog = await app.resolve(PinoLogger);
  transportLog.setContext('NatsTransport');
  app.connectMicroservice(
    { strategy: new TesseraTransport(network, `tessera.${config.service}`, transportLog) },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  if (config.httpPort > 0) {
    await app.listen(config.httpPort, config.httpHost);
    bootLog.info({ port: config.httpPort }, `${config.service} listening`);
  } else {
    await app.init();
    bootLog.info({}, `${config.service} started (no HTTP port)`);
  }
  return app;
}

/** Runs `start`; a bad environment prints one line naming the variable and exits 1. */
export function main(service: string, start: () => Promise<unknown>): void {
  start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera-${service}: ${error.message}\n`);
    } else {
      process.stderr.write(`tessera-${service}: failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    }
    process.exit(1);
  });
}

/**
 * On SIGTERM/SIGINT: close the app (NATS subscriptions drained, loops stopped, outbox relay and
 * connections closed through the lifecycle hooks) and exit 0; a close that hangs is cut at 10 s.
 */
function exitCleanlyOn(app: INestApplication, signals: NodeJS.Signals[], log: { info(o: object, m: string): void }): void {
  let closing = false;
  for (const signal of signals) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      app
        .close()
        .then(() => process.exit(0))
        .catch(() => process.exit(1));
    });
  }
}
