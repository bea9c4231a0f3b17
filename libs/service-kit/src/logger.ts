import pino, { type Logger } from 'pino';
import { currentCorrelationId } from '@tessera/messaging';
import { type BaseConfig } from './config';

/**
 * One pino logger per process, JSON lines with service, cluster and instance on every line;
 * secrets redacted. Nest's logger and the NATS layer both write through it.
 */
export function createRootLogger(config: BaseConfig): Logger {
  return pino({
    level: config.logLevel,
    base: { service: config.service, cluster: config.cluster, instance: config.instanceId },
    redact: ['req.headers.authorization', '*.password', '*.pass', '*.token', '*.adminToken'],
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every line written while handling a request carries its correlation id.
    mixin: () => {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
  });
}
