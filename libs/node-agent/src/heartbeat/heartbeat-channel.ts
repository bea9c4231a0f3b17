/** What a heartbeat carries besides its sequence number (see HeartbeatV1). */
export interface HeartbeatPlan {
  nodeId: string;
  incarnation: number;
  intervalMs: number;
  /** A reply later than this could not extend the lease anyway. */
  timeoutMs: number;
}

export interface HeartbeatOutcome {
  /** Health's reply (validated by the agent) to a heartbeat sent at `sentAt` (agent's clock). */
  replied(sentAt: number, reply: unknown): void;
  /** The heartbeat got no usable reply: `code` says why (TIMEOUT, UNAVAILABLE…). */
  failed(code: string): void;
}

/**
 * Sends a node's heartbeats. The agent's own event loop sends them by default; a channel on
 * its own thread (ThreadHeartbeats) keeps them on time while the agent's loop is busy, as long
 * as the loop keeps calling `alive()`.
 */
export interface HeartbeatChannel {
  /** Gets ready to beat (connects) while the agent registers, so the first beat is not late. */
  open?(): void;
  /** Starts (or, after a new registration, restarts) beating. */
  start(plan: HeartbeatPlan, outcome: HeartbeatOutcome): void;
  /** The agent's loop is running: called on each of its heartbeat ticks. */
  alive(): void;
  stop(): Promise<void>;
}
