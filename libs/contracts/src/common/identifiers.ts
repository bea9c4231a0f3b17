/**
 * Names that appear inside NATS subjects must be single tokens: no dots, wildcards or spaces.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const TOKEN_RULE = 'letters, digits, "_" or "-", 1–64 characters';
export const MAX_PARTITIONS = 100_000;
export const MAX_REPLICATION_FACTOR = 7;

export function isToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN_PATTERN.test(value);
}
