import { type EntityManager } from 'typeorm';

/** Bumps the map version inside the caller's transaction (the row lock orders map changes). */
export async function nextMapVersion(m: EntityManager): Promise<number> {
  const [rows]: [{ version: string }[], number] = await m.query(
    `UPDATE coordinator.map_version SET version = version + 1 WHERE id = 1 RETURNING version`,
  );
  return Number(rows[0].version);
}

export async function currentMapVersion(m: Pick<EntityManager, 'query'>): Promise<number> {
  const rows: { version: string }[] = await m.query(`SELECT version FROM coordinator.map_version WHERE id = 1`);
  return Number(rows[0]?.version ?? 0);
}
