import { AckPolicy, type Consumer, DeliverPolicy, type JsMsg, nanos } from 'nats';
import { Subjects, TesseraError } from '@tessera/contracts';
import { type NetworkLogger, type NetworkManager } from '@tessera/messaging';

/** The durable consumer of liveness events shared by every recovery instance. */
export const LIVENESS_DURABLE = 'recovery-liveness';
/** An event a holder pulled and never answered (it died or froze) comes back after this. */
export const LIVENESS_ACK_WAIT_MS = 10_000;
/** How long one pull waits for an event: bounds how long a stop takes to be seen. */
const PULL_EXPIRES_MS = 1_000;
/** Pause before redelivery when the handler failed for a reason other than a lost lease. */
const RETRY_MS = 1_000;

export type LivenessHandler = (payload: unknown) => Promise<void>;

/** One run of the consumer: `stop` resolves once the event in hand, if any, is dealt with. */
export interface ConsumerRun {
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Pulls liveness events one at a time, and only while started: the active recovery starts it
 * when it gains the lease and stops it when it loses it, so a standby never takes an event.
 * One event in hand at most: an instance that dies or freezes holds back a single event, which
 * JetStream redelivers after the ack wait; an event pulled after the stop, or refused because the
 * lease was lost (FENCED), is handed back at once for the new holder.
 */
export class LivenessConsumer {
  constructor(
    private readonly network: NetworkManager,
    private readonly log: NetworkLogger,
  ) {}

  /**
   * Binds the durable consumer and starts pulling; throws when JetStream cannot be reached.
   * Each call is a run of its own, stopped through the returned handle.
   */
  async start(handler: LivenessHandler): Promise<ConsumerRun> {
    const consumer = await this.bind();
    const state = { stopped: false };
    const done = this.loop(consumer, handler, state);
    return {
      stop: async () => {
        state.stopped = true;
        await done;
      },
    };
  }

  private async bind(): Promise<Consumer> {
    const stream = await this.network.ensureEventStream();
    const nc = this.network.connection;
    const jsm = await nc.jetstreamManager();
    const ackWait = nanos(LIVENESS_ACK_WAIT_MS);
    const existing = await jsm.consumers.info(stream, LIVENESS_DURABLE).catch(() => null);
    if (existing === null) {
      await jsm.consumers
        .add(stream, {
          durable_name: LIVENESS_DURABLE,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          filter_subject: this.network.subject(Subjects.events.nodeLiveness),
          ack_wait: ackWait,
          max_ack_pending: 1_000,
        })
        .catch(async (error: unknown) => {
          // Another instance may have created it first.
          if ((await jsm.consumers.info(stream, LIVENESS_DURABLE).catch(() => null)) === null)
            throw error;
        });
    } else if (existing.config.ack_wait !== ackWait) {
      // Created by an earlier version with a longer ack wait: a frozen holder would delay failover.
      await jsm.consumers.update(stream, LIVENESS_DURABLE, { ack_wait: ackWait });
    }
    return nc.jetstream().consumers.get(stream, LIVENESS_DURABLE);
  }

  private async loop(
    consumer: Consumer,
    handler: LivenessHandler,
    run: { stopped: boolean },
  ): Promise<void> {
    while (!run.stopped) {
      let m: JsMsg | null;
      try {
        m = await consumer.next({ expires: PULL_EXPIRES_MS });
      } catch (error) {
        if (run.stopped) return;
        this.log.warn(
          { err: error, durable: LIVENESS_DURABLE },
          'pulling liveness events failed; retrying',
        );
        await sleep(RETRY_MS);
        continue;
      }
      if (m === null) continue;
      if (run.stopped) {
        m.nak(); // no longer ours to handle: back to the stream at once
        return;
      }
      await this.handle(m, handler, run);
    }
  }

  private async handle(
    m: JsMsg,
    handler: LivenessHandler,
    run: { stopped: boolean },
  ): Promise<void> {
    let payload: unknown;
    try {
      payload = m.json();
    } catch (error) {
      this.log.error({ err: error, subject: m.subject }, 'dropping an unparsable liveness event');
      m.term();
      return;
    }
    try {
      await handler(payload);
      m.ack();
    } catch (error) {
      const fenced = error instanceof TesseraError && error.code === 'FENCED';
      if (fenced && run.stopped) {
        // The lease was lost meanwhile (the run was stopped): the new holder gets it at once.
        this.log.warn(
          { subject: m.subject },
          'lease lost while handling a liveness event; handing it back',
        );
        m.nak();
      } else {
        this.log.warn(
          { err: error, subject: m.subject },
          'liveness event handler failed; will retry',
        );
        m.nak(RETRY_MS);
      }
    }
  }
}
