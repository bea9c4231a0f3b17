/** Injection tokens provided by the service kit. */
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const OUTBOX_RELAY = Symbol('OUTBOX_RELAY');
