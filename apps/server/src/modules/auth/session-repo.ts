import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import type { Db } from "../../infra/db/database.js";
import type { SessionsTable } from "../../infra/db/schema.js";

export type SessionRow = SessionsTable;

export function createSessionRepo(db: Db) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto("sessions").values(row).execute();
    },
    /**
     * Every request of a logged-in user or client makes this lookup: a SQL template (compiled
     * without building a query tree) rather than the query builder, same statement.
     */
    async findLive(idHash: string, now: number): Promise<SessionRow | undefined> {
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
export type SessionRepo = ReturnType<typeof createSessionRepo>;

/** Background job: expired sessions are deleted (they are already refused; this keeps the table small). */
export async function deleteExpiredSessionsJob(ctx: Pick<AppContext, "db" | "clock">): Promise<void> {
  await createSessionRepo(ctx.db).deleteExpired(ctx.clock.now());
}
