import { sql } from "kysely";
import type { AppContext } from "../app-context.js";
import { dialectOf } from "../infra/db/database.js";

/**
 * Race tests: resolves once a backend of this PostgreSQL database waits on a lock (the request
 * under test queued behind a transaction the test holds open), so the test can then commit and
 * watch what the request does. SQLite has one writer connection: nothing can wait there, and
 * this resolves at once. `what` names the wait in the error when it never happens.
 */
export async function untilSomeoneWaitsOnALock(ctx: Pick<AppContext, "db">, what: string): Promise<void> {
  if (dialectOf(ctx.db) !== "postgres") return;
  for (let i = 0; i < 2_000; i++) {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(ctx.db);
    if (Number(rows[0]?.n) > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`never waited on a lock: ${what}`);
}
