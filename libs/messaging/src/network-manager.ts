import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type Msg,
  type NatsConnection,
  type Subscription,
  connect,
  headers,
  nanos,
  StorageType,
} from 'nats';
import {
  type ErrorReplyV1,
  type RequestKind,
  type RequestOf,
  type ReplyOf,
  TesseraError,
  eventStreamName,
  fullSubject,
  isErrorReply,
  clusterPrefix,
} from '@tessera/contracts';
import { currentCorrelationId } from './correlation';
import {
  natsConnectionOptions,
  type NatsSettings,
  type ThreadConnection,
  threadConnection,
} from './nats-config';

/** What the NetworkManager logs through (pino-compatible). */
export interface NetworkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const ignore = (): void => undefined;
export const silentLogger: NetworkLogger = { info: ignore, warn: ignore, error: ignore };

export interface RequestOptions {
  timeoutMs?: number;
  /** Extra attempts after a timeout or "no responders" (the request must be idempotent). */
  retries?: number;
  retryDelayMs?: number;
  correlationId?: string;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const CORRELATION_HEADER = 'Tessera-Correlation-Id';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * NetworkManager: one NATS connection per process, namespaced by cluster. Requests always
 * time out; reconnects go on forever and are logged; events go to the cluster's JetStream
 * stream with the event id as the dedupe id.
 */
export class NetworkManager {
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private readonly subscriptions = new Set<Subscription>();
  private readonly consumers = new Set<ConsumerMessages>();
  private reconnects = 0;
  private disconnects = 0;

  constructor(
    readonly cluster: string,
    private readonly settings: NatsSettings,
    private readonly clientName: string,
    private readonly log: NetworkLogger = silentLogger,
  ) {
    clusterPrefix(cluster); // validates the name
  }

  get connection(): NatsConnection {
    if (!this.nc) throw new TesseraError('UNAVAILABLE', 'NATS is not connected yet');
    return this.nc;
  }

  get isConnected(): boolean {
    return this.nc !== null && !this.nc.isClosed() && this.connectedNow;
  }

  get stats(): { reconnects: number; disconnects: number } {
    return { reconnects: this.reconnects, disconnects: this.disconnects };
  }

  private connectedNow = false;
  private readonly connectionListeners = new Set<(connected: boolean) => void>();

  /**
   * Calls `listener` with false when the connection drops and true when it is back (not for the
   * first connect). Returns the function that removes it. A listener must not throw.
   */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private setConnected(connected: boolean): void {
    if (this.connectedNow === connected) return;
    this.connectedNow = connected;
    for (const listener of this.connectionListeners) {
      try {
        listener(connected);
      } catch (error) {
        this.log.error({ err: error }, 'a connection listener failed');
      }
    }
  }

  subject(relative: string): string {
    return fullSubject(this.cluster, relative);
  }

  /** How a worker thread opens its own connection like this one (see ThreadConnection). */
  threadConnection(name: string): ThreadConnection {
    return threadConnection(this.settings, `${this.clientName}/${name}`);
  }

  async connect(): Promise<void> {
    if (this.nc) return;
    const nc = await connect(natsConnectionOptions(this.settings, this.clientName));
    this.nc = nc;
    this.connectedNow = true;
    this.log.info({ server: nc.getServer(), cluster: this.cluster }, 'nats connected');
    void this.watchStatus(nc);
    void nc.closed().then((err) => {
      this.setConnected(false);
      if (err) this.log.error({ err }, 'nats connection closed with error');
    });
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.disconnects++;
        this.setConnected(false);
        this.log.warn({ server: s.data }, 'nats disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        this.reconnects++;
        this.setConnected(true);
        this.log.info({ server: s.data }, 'nats reconnected');
      } else if (s.type === 'error') {
        this.log.error({ err: s.data }, 'nats error');
      }
    }
  }

  /** Typed request/reply: decodes the reply, throws TesseraError for `{ ok: false }` replies. */
  async request<K extends RequestKind>(
    _kind: K,
    relativeSubject: string,
    payload: RequestOf<K>,
    options: RequestOptions = {},
  ): Promise<ReplyOf<K>> {
    const reply = await this.requestRaw(relativeSubject, payload, options);
    if (isErrorReply(reply)) {
      throw new TesseraError(reply.code, reply.message);
    }
    if (typeof reply !== 'object' || reply === null) {
      throw new TesseraError('INTERNAL', `malformed reply on ${relativeSubject}`);
    }
    return reply as ReplyOf<K>;
  }

  /** Request returning the decoded reply as-is (error replies included). */
  async requestRaw(
    relativeSubject: string,
    payload: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const subject = this.subject(relativeSubject);
    const timeout = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const attempts = 1 + (options.retries ?? 0);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const h = headers();
        const correlationId = options.correlationId ?? currentCorrelationId();
        if (correlationId) h.set(CORRELATION_HEADER, correlationId);
        const msg = await this.connection.request(subject, encodeJson(payload), {
          timeout,
          headers: h,
        });
        return decodeJson(msg.data);
      } catch (error) {
        lastError = error;
        const code = (error as { code?: string }).code;
        // 503 = no responders, TIMEOUT = nobody answered in time: both are worth a retry.
        if (code !== '503' && code !== 'TIMEOUT') break;
        if (attempt < attempts) await sleep(options.retryDelayMs ?? 200);
      }
    }
    const code = (lastError as { code?: string }).code;
    if (code === '503') {
      throw new TesseraError('UNAVAILABLE', `no service answers on ${subject}`, {
        cause: lastError,
      });
    }
    if (code === 'TIMEOUT') {
      throw new TesseraError('TIMEOUT', `no reply on ${subject} within ${timeout} ms`, {
        cause: lastError,
      });
    }
    throw new TesseraError('UNAVAILABLE', `request on ${subject} failed`, { cause: lastError });
  }

  publish(relativeSubject: string, payload: unknown): void {
    this.connection.publish(this.subject(relativeSubject), encodeJson(payload));
  }

  /**
   * Subscribes to a relative subject (wildcards allowed). The handler's errors are logged,
   * never thrown into nats.js. With `queue`, instances of a service share the work.
   */
  subscribe(
    relativeSubject: string,
    handler: (msg: Msg) => Promise<void> | void,
    options: { queue?: string } = {},
  ): Subscription {
    const subject = this.subject(relativeSubject);
    const sub = this.connection.subscribe(subject, {
      queue: options.queue,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err, subject }, 'subscription error');
          return;
        }
        Promise.resolve()
          .then(() => handler(msg))
          .catch((error: unknown) =>
            this.log.error({ err: error, subject: msg.subject }, 'handler failed'),
          );
      },
    });
    this.subscriptions.add(sub);
    void sub.closed.then(() => this.subscriptions.delete(sub));
    return sub;
  }

  static respond(msg: Msg, payload: unknown): void {
    if (msg.reply) msg.respond(encodeJson(payload));
  }

  static respondError(msg: Msg, error: ErrorReplyV1): void {
    if (msg.reply) msg.respond(encodeJson(error));
  }

  private async jetstream(): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
    if (!this.js || !this.jsm) {
      this.jsm = await this.connection.jetstreamManager();
      this.js = this.connection.jetstream();
    }
    return { js: this.js, jsm: this.jsm };
  }

  /** Creates (or keeps) the cluster's event stream over `tessera.v1.<cluster>.events.>`. */
  async ensureEventStream(): Promise<string> {
    const { jsm } = await this.jetstream();
    const name = eventStreamName(this.cluster);
    const config = {
      name,
      subjects: [this.subject('events.>')],
      storage: StorageType.File,
      max_age: nanos(24 * 3600 * 1000),
      duplicate_window: nanos(2 * 60 * 1000),
    };
    try {
      await jsm.streams.info(name);
    } catch {
      try {
        await jsm.streams.add(config);
        this.log.info({ stream: name }, 'event stream created');
      } catch (error) {
        // Another service may have created it first.
        await jsm.streams.info(name).catch(() => {
          throw error;
        });
      }
    }
    return name;
  }

  async deleteEventStream(): Promise<void> {
    const { jsm } = await this.jetstream();
    await jsm.streams.delete(eventStreamName(this.cluster)).catch(() => undefined);
  }

  /** Publishes an event to JetStream and waits for the stream's ack (dedupe by eventId). */
  async publishEvent(relativeSubject: string, payload: unknown, eventId: string): Promise<void> {
    const { js } = await this.jetstream();
    await js.publish(this.subject(relativeSubject), encodeJson(payload), {
      msgID: eventId,
      timeout: 5_000,
    });
  }

  /**
   * Publishes events to the event stream in order and resolves once JetStream has taken all of
   * them: every event but the last goes out as a plain publish carrying its dedupe id
   * (`Nats-Msg-Id`), the last as a JetStream publish whose ack is awaited. The server hands one
   * connection's messages to the stream in the order they arrive, so that ack comes only after the
   * stream took the earlier ones (and the stream refuses none: no size limits, discard old). A
   * JetStream publish per event, each with its own ack, moved 3–7k events/s here; this, ~40k/s.
   * The order argument holds on one connection only: if it dropped meanwhile (plain publishes in
   * flight are lost with it), this throws and the caller publishes the batch again (the stream
   * drops the copies by dedupe id).
   */
  async publishEvents(
    events: { subject: string; payload: unknown; eventId: string }[],
  ): Promise<void> {
    const last = events[events.length - 1];
    if (!last) return;
    if (!this.connectedNow)
      throw new Error('nats is not connected: the batch is left to the relay');
    const disconnects = this.disconnects;
    const nc = this.connection;
    for (const e of events.slice(0, -1)) {
      const h = headers();
      h.set('Nats-Msg-Id', e.eventId);
      nc.publish(this.subject(e.subject), encodeJson(e.payload), { headers: h });
    }
    await this.publishEvent(last.subject, last.payload, last.eventId);
    if (this.disconnects !== disconnects)
      throw new Error('the nats connection dropped while a batch was published: it goes out again');
  }

  /**
   * Durable, at-least-once consumption of one event subject. The handler must be idempotent;
   * a message is acked after the handler resolves, retried after a delay if it throws, and
   * dropped (terminated, logged) if it cannot be parsed.
   */
  consumeEvents(
    durableName: string,
    relativeSubject: string,
    handler: (payload: unknown, subject: string) => Promise<void>,
  ): Promise<void> {
    return this.consumeEventBatches(durableName, relativeSubject, 1, async ([event]) => {
      if (event) await handler(event.payload, event.subject);
    });
  }

  /**
   * Like `consumeEvents`, but hands the handler every message that arrived while it was busy
   * (up to `maxBatch`, in order): a consumer whose work per call has a fixed cost (a transaction,
   * a version bump) does it once for a burst. The batch is acked after the handler resolves and
   * retried as a whole if it throws.
   */
  async consumeEventBatches(
    durableName: string,
    relativeSubject: string,
    maxBatch: number,
    handler: (events: { payload: unknown; subject: string }[]) => Promise<void>,
  ): Promise<void> {
    const { js, jsm } = await this.jetstream();
    const stream = await this.ensureEventStream();
    const durable = durableName.replace(/[^A-Za-z0-9_-]/g, '_');
    try {
      await jsm.consumers.info(stream, durable);
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: this.subject(relativeSubject),
        ack_wait: nanos(30_000),
        max_ack_pending: 1_000,
      });
    }
    const consumer = await js.consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: 256 });
    this.consumers.add(messages);
    const queue: JsMsg[] = [];
    let ended = false;
    let wake: (() => void) | null = null;
    const signal = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    void (async () => {
      for await (const m of messages) {
        queue.push(m);
        signal();
      }
    })()
      .catch((error: unknown) => this.log.error({ err: error, durable }, 'event consumer stopped'))
      .finally(() => {
        ended = true;
        signal();
      });
    void (async () => {
      for (;;) {
        if (queue.length === 0) {
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const taken = queue.splice(0, Math.max(1, maxBatch));
        const batch: { payload: unknown; subject: string; m: JsMsg }[] = [];
        for (const m of taken) {
          try {
            batch.push({ payload: m.json(), subject: m.subject, m });
          } catch (error) {
            this.log.error({ err: error, subject: m.subject }, 'dropping unparsable event');
            m.term();
          }
        }
        if (batch.length === 0) continue;
        try {
          await handler(batch.map(({ payload, subject }) => ({ payload, subject })));
          for (const { m } of batch) m.ack();
        } catch (error) {
          this.log.warn(
            { err: error, subject: batch[0]?.subject, events: batch.length },
            'event handler failed; will retry',
          );
          for (const { m } of batch) m.nak(1_000);
        }
      }
    })().catch((error: unknown) =>
      this.log.error({ err: error, durable }, 'event consumer stopped'),
    );
  }

  /** Stops consuming, drains subscriptions and closes the connection. */
  async close(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    for (const c of this.consumers) c.stop();
    this.consumers.clear();
    this.nc = null;
    this.connectedNow = false;
    try {
      await nc.drain();
    } catch {
      await nc.close().catch(() => undefined);
    }
  }
}
