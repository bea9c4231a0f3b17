import { BaseRpcContext, type CustomTransportStrategy, type MessageHandler, Server } from '@nestjs/microservices';
import { type Msg } from 'nats';
import { lastValueFrom, isObservable } from 'rxjs';
import { type ErrorReplyV1, isErrorReply, TesseraError } from '@tessera/contracts';
import { withCorrelation } from './correlation';
import { CORRELATION_HEADER, type NetworkLogger, NetworkManager, decodeJson, silentLogger } from './network-manager';

/** The context a NATS handler receives: the full subject (for identity checks) and headers. */
export class TesseraRpcContext extends BaseRpcContext<[string, Msg]> {
  getSubject(): string {
    return this.args[0];
  }

  /** The last token of the subject: the identity carried by `…<nodeId>` subjects. */
  getSubjectIdentity(): string {
    const subject = this.args[0];
    return subject.slice(subject.lastIndexOf('.') + 1);
  }

  getCorrelationId(): string | undefined {
    return this.args[1].headers?.get(CORRELATION_HEADER) || undefined;
  }
}

/** Handler extras: `@MessagePattern(subject, { queue: false })` makes every instance receive it. */
interface HandlerExtras {
  queue?: boolean;
}

export function toErrorReply(error: unknown): ErrorReplyV1 {
  if (error instanceof TesseraError) return error.toReply();
  if (isErrorReply(error)) return error;
  return { ok: false, code: 'INTERNAL', message: 'internal error' };
}

/**
 * Nest microservice transport over the NetworkManager: `@MessagePattern('consensus.partition.query')`
 * listens on `tessera.v1.<cluster>.consensus.partition.query` in the service's queue group.
 * Replies are `{ ok: true, ...result }` or `{ ok: false, code, message }`; a payload that is not
 * JSON is answered with INVALID_JSON before any handler runs.
 */
export class TesseraTransport extends Server implements CustomTransportStrategy {
  private readonly subs: { unsubscribe(): void }[] = [];

  constructor(
    private readonly network: NetworkManager,
    private readonly queueGroup: string,
    private readonly log: NetworkLogger = silentLogger,
  ) {
    super();
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      const extras = (handler.extras ?? {}) as HandlerExtras;
      const queue = extras.queue === false ? undefined : this.queueGroup;
      const sub = this.network.subscribe(pattern, (msg) => this.dispatch(handler, msg), { queue });
      this.subs.push(sub);
    }
    callback();
  }

  private async dispatch(handler: MessageHandler, msg: Msg): Promise<void> {
    let data: unknown;
    try {
      data = decodeJson(msg.data);
    } catch {
      this.log.warn({ subject: msg.subject }, 'refused a payload that is not JSON');
      NetworkManager.respondError(msg, { ok: false, code: 'INVALID_JSON', message: 'payload is not valid JSON' });
      return;
    }
    const ctx = new TesseraRpcContext([msg.subject, msg]);
    await withCorrelation(ctx.getCorrelationId(), () => this.invoke(handler, msg, ctx, data));
  }

  private async invoke(handler: MessageHandler, msg: Msg, ctx: TesseraRpcContext, data: unknown): Promise<void> {
    try {
      const result: unknown = await handler(data, ctx);
      const value: unknown = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
      if (handler.isEventHandler) return;
      const body = typeof value === 'object' && value !== null ? value : { value };
      NetworkManager.respond(msg, { ok: true, ...body });
    } catch (error) {
      const reply = toErrorReply(error);
      if (reply.code === 'INTERNAL') this.log.error({ err: error, subject: msg.subject }, 'handler failed');
      else this.log.warn({ subject: msg.subject, code: reply.code, reason: reply.message }, 'request refused');
      NetworkManager.respondError(msg, reply);
    }
  }

  close(): void {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.length = 0;
  }

  on(): never {
    throw new Error('TesseraTransport does not expose transport events');
  }

  unwrap<T>(): T {
    return this.network as T;
  }
}
