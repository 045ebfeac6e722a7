import type { AppContext } from "../../app-context.js";
import type { Db } from "../../infra/db/database.js";
import type { SessionsTable } from "../../infra/db/schema.js";

export type SessionRow = SessionsTable;

export function createSessionRepo(db: Db) {
  return {
    async insert(row: SessionRow): Promise<void> {
      await db.insertInto("sessions").values(row).execute();
    },
    async findLive(idHash: string, now: number): Promise<SessionRow | undefined> {
      return db
        .selectFrom("sessions")
        .selectAll()
        .where("id_hash", "=", idHash)
        .where("expires_at", ">", now)
        .executeTakeFirst();
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
