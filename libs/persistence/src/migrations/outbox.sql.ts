/**
 * Every owning schema has its own outbox (events written in the same transaction as the change)
 * and inbox (event ids already processed, for idempotent consumers).
 */
export function outboxAndInboxDdl(schema: string): string[] {
  return [
    `CREATE TABLE "${schema}".outbox (
      id bigserial PRIMARY KEY,
      event_id uuid NOT NULL,
      subject text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz NULL,
      CONSTRAINT "uq_${schema}_outbox_event_id" UNIQUE (event_id)
    )`,
    `CREATE INDEX "ix_${schema}_outbox_unpublished" ON "${schema}".outbox (id) WHERE published_at IS NULL`,
    `CREATE TABLE "${schema}".inbox (
      event_id uuid PRIMARY KEY,
      processed_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/**
 * A singleton role's lease lives in the schema of the service that holds it, so the fencing
 * check (`SELECT … FOR SHARE` on the lease row) sits in the same transaction as every write.
 * Expiry is judged by Postgres's clock alone, never by the contenders'.
 */
export function leaseDdl(schema: string): string[] {
  return [
    `CREATE TABLE "${schema}".lease (
      role text PRIMARY KEY,
      holder text NOT NULL,
      term bigint NOT NULL CHECK (term > 0),
      expires_at timestamptz NOT NULL,
      acquired_at timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}
