import { CompiledQuery, PostgresAdapter, sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { createMicroBatcher, type MicroBatcher } from "../../infra/batching/micro-batcher.js";
import { allColumns } from "../../infra/db/columns.js";
import type { Db } from "../../infra/db/database.js";
import { preparedOnPostgres } from "../../infra/db/pg-prepared.js";
import type { SessionsTable } from "../../infra/db/schema.js";

export type SessionRow = SessionsTable;

export function createSessionRepo(db: Db) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto("sessions").values(row).execute();
    },
    /**
     * Every request of a logged-in client makes this lookup (pass the database, not a
     * transaction). SQLite: one statement (a SQL template, compiled without building a query
     * tree). PostgreSQL, where a statement is a round trip: the lookups of the requests that
     * arrive together are one query, and each is checked against its own `now` here.
     */
    async findLive(idHash: string, now: number): Promise<SessionRow | undefined> {
      const batcher = pgSessionReader(db);
      if (batcher) {
        const row = await batcher.submit(idHash);
        return row !== undefined && row.expires_at > now ? row : undefined;
      }
      const r =
        await sql<SessionRow>`select * from sessions where id_hash = ${idHash} and expires_at > ${now}`.execute(
          db,
        );
      return r.rows[0];
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
const PG_FIND_SESSIONS = preparedOnPostgres(
  `select ${allColumns<SessionsTable>()([
    "id_hash",
    "kind",
    "subject_id",
    "tenant_id",
    "csrf_token",
    "expires_at",
    "created_at",
  ]).join(", ")} from sessions where id_hash = any($1::text[])`,
);

/** Per database: the PostgreSQL session reader, or null on SQLite (in-process, nothing to save). */
const sessionReaders = new WeakMap<Db, MicroBatcher<string, SessionRow | undefined> | null>();

function pgSessionReader(db: Db): MicroBatcher<string, SessionRow | undefined> | null {
  let reader = sessionReaders.get(db);
  if (reader === undefined) {
    reader =
      db.getExecutor().adapter instanceof PostgresAdapter
        ? createMicroBatcher<string, SessionRow | undefined>(
            async (idHashes) => {
              const { rows } = await db.executeQuery<SessionRow>(
                CompiledQuery.raw(PG_FIND_SESSIONS, [[...new Set(idHashes)]]),
              );
              const byHash = new Map(rows.map((r) => [r.id_hash, r]));
              return idHashes.map((h) => ({ ok: true, value: byHash.get(h) }));
            },
            { maxBatch: 256, concurrency: 2 },
          )
        : null;
    sessionReaders.set(db, reader);
  }
  return reader;
}

/** Background job: expired sessions are deleted (they are already refused; this keeps the table small). */
export async function deleteExpiredSessionsJob(ctx: Pick<AppContext, "db" | "clock">): Promise<void> {
  await createSessionRepo(ctx.db).deleteExpired(ctx.clock.now());
}
