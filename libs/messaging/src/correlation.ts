import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * A request's correlation id follows it across NATS hops: the transport and the HTTP layer run
 * each handler inside `withCorrelation`, outgoing requests carry it as a header, and every log
 * line written meanwhile includes it.
 */
const storage = new AsyncLocalStorage<string>();

export function withCorrelation<T>(id: string | undefined, fn: () => T): T {
  return storage.run(id && /^[\w.:-]{1,100}$/.test(id) ? id : randomUUID(), fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}
