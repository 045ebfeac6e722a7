import type { Db } from "../db/database.js";
import { perDatabase, runStatement, type Statement } from "../db/sql-text.js";

/**
 * The claim of the background jobs (API-3 status queries, webhook deliveries, webhook replays):
 * a job is a row whose `due` column says when it is due. A worker claims due rows in one short
 * statement by moving `due` to a lease (now + the job's longest run + a margin): no other worker
 * takes them meanwhile, no transaction stays open while the job runs, and a claim whose process
 * died comes back by itself once the lease has passed. The job ends with a compare-and-set on
 * the lease (`due = lease`), so a job finished late by a process that lost its lease changes
 * nothing. PostgreSQL skips rows another transaction holds (SKIP LOCKED: another worker's claim,
 * or a settlement holding the row); SQLite has one writer.
 */
export type JobQueue = {
  table: string;
  /** The due column: an epoch-ms time while the job is to run, else null. */
  due: string;
  /**
   * A fixed predicate on the table's rows (no parameters), e.g. `status = 'pending'`; it may
   * refer to the row as `job`.
   */
  where?: string;
};

export type JobClaimStatement = Statement;

/**
 * The claim statement of a queue, built once per queue. The due rows are picked in a CTE:
 * PostgreSQL materialises it once, whereas a sub-select with LIMIT … SKIP LOCKED in
 * `WHERE id IN (…)` may be run again per row and claim more than the limit.
 */
export function claimStatement(q: JobQueue): JobClaimStatement {
  const where = q.where ? ` AND (${q.where})` : "";
  const select = `WITH c AS (SELECT job.id FROM ${q.table} job WHERE job.${q.due} <= ?${where}
    ORDER BY job.${q.due} LIMIT ?`;
  const update = `UPDATE ${q.table} SET ${q.due} = ? WHERE id IN (SELECT id FROM c) RETURNING id`;
  return perDatabase({
    sqlite: `${select}) ${update}`,
    postgres: `${select} FOR NO KEY UPDATE OF job SKIP LOCKED) ${update}`,
  });
}

/** Claimed rows, and the lease their due column now holds (the compare-and-set's guard). */
export type JobClaim = { ids: string[]; lease: number };

/** Claims up to `limit` rows due at `now`, their due column moved to `now + leaseMs`. */
export async function claimDue(
  db: Db,
  statement: JobClaimStatement,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<JobClaim> {
  const lease = now + leaseMs;
  if (limit <= 0) return { ids: [], lease };
  const { rows } = await runStatement<{ id: string }>(db, statement, [now, limit, lease]);
  return { ids: rows.map((r) => r.id), lease };
}

/**
 * The statement that reads the longest-waiting due row of a queue: when it became due, and the
 * columns asked for (e.g. its tenant). How far the queue's workers are behind; it locks nothing
 * and may see a row another worker is claiming at that moment.
 */
export function oldestDueStatement(q: JobQueue, columns: readonly string[] = []): Statement {
  const where = q.where ? ` AND (${q.where})` : "";
  const cols = [`job.${q.due} AS due`, ...columns.map((c) => `job.${c} AS ${c}`)].join(", ");
  const sql = `SELECT ${cols} FROM ${q.table} job WHERE job.${q.due} <= ?${where}
    ORDER BY job.${q.due} LIMIT 1`;
  return perDatabase({ sqlite: sql, postgres: sql });
}

/** The longest-waiting row due at `now` (its due time as a number), or undefined. */
export async function oldestDue<R extends Record<string, unknown>>(
  db: Db,
  statement: Statement,
  now: number,
): Promise<(Omit<R, "due"> & { due: number }) | undefined> {
  const { rows } = await runStatement<R & { due: number | string }>(db, statement, [now]);
  const row = rows[0];
  return row ? { ...row, due: Number(row.due) } : undefined;
}
