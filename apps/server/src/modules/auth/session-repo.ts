import { CompiledQuery, sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { createMicroBatcher } from "../../infra/batching/micro-batcher.js";
import { allColumns } from "../../infra/db/columns.js";
import { type Db, dialectOf } from "../../infra/db/database.js";
import { preparedOnPostgres } from "../../infra/db/pg-prepared.js";
import type { SessionsTable } from "../../infra/db/schema.js";

export type SessionRow = SessionsTable;
/**
 * A live session as the lookup finds it: with its tenant's suspension (migration 0012), read in
 * the same statement, so a suspended tenant's portal refuses its sessions at no extra round trip.
 */
export type LiveSession = SessionRow & { tenant_suspended_at: number | null };

export function createSessionRepo(db: Db) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto("sessions").values(row).execute();
    },
    async delete(idHash: string): Promise<void> {
      await db.deleteFrom("sessions").where("id_hash", "=", idHash).execute();
    },
    async deleteExpired(now: number): Promise<void> {
      await db.deleteFrom("sessions").where("expires_at", "<=", now).execute();
    },
    async deleteForSubject(kind: SessionRow["kind"], subjectId: string): Promise<void> {
      await db.deleteFrom("sessions").where("kind", "=", kind).where("subject_id", "=", subjectId).execute();
    },
  };
}

/** One text for any number of sessions: a named statement (pg-prepared.ts), its columns named. */
const SESSION_COLUMNS = allColumns<SessionsTable>()([
  "id_hash",
  "kind",
  "subject_id",
  "tenant_id",
  "csrf_token",
  "expires_at",
  "created_at",
])
  .map((c) => `s.${c}`)
  .join(", ");
const PG_FIND_SESSIONS = preparedOnPostgres(
  `select ${SESSION_COLUMNS}, t.suspended_at as tenant_suspended_at from sessions s join tenants t on t.id = s.tenant_id where s.id_hash = any($1::text[])`,
);

/**
 * The session lookup every request of a logged-in user or client makes, over the root database
 * (it takes no transaction). SQLite: one statement (a SQL template, compiled without building a
 * query tree). PostgreSQL, where a statement is a round trip: the lookups of the requests that
 * arrive together are one query (a micro-batcher: at most 256 at once, two queries in flight),
 * each checked against its own `now` here. One per AppContext (app-context.ts).
 */
export type SessionReader = { findLive(idHash: string, now: number): Promise<LiveSession | undefined> };

export function createSessionReader(db: Db): SessionReader {
  if (dialectOf(db) === "sqlite") {
    return {
      async findLive(idHash, now) {
        const r =
          await sql<LiveSession>`select ${sql.raw(SESSION_COLUMNS)}, t.suspended_at as tenant_suspended_at
          from sessions s join tenants t on t.id = s.tenant_id
          where s.id_hash = ${idHash} and s.expires_at > ${now}`.execute(db);
        return r.rows[0];
      },
    };
  }
  const batcher = createMicroBatcher<string, LiveSession | undefined>(
    async (idHashes) => {
      const { rows } = await db.executeQuery<LiveSession>(
        CompiledQuery.raw(PG_FIND_SESSIONS, [[...new Set(idHashes)]]),
      );
      const byHash = new Map(rows.map((r) => [r.id_hash, r]));
      return idHashes.map((h) => ({ ok: true, value: byHash.get(h) }));
    },
    { maxBatch: 256, concurrency: 2 },
  );
  return {
    async findLive(idHash, now) {
      const row = await batcher.submit(idHash);
      return row !== undefined && row.expires_at > now ? row : undefined;
    },
  };
}

/** Background job: expired sessions are deleted (they are already refused; this keeps the table small). */
export async function deleteExpiredSessionsJob(ctx: Pick<AppContext, "db" | "clock">): Promise<void> {
  await createSessionRepo(ctx.db).deleteExpired(ctx.clock.now());
}
