import { CompiledQuery } from "kysely";
import { ConflictError } from "../../common/errors.js";
import { type Db, dialectOf, writeTransaction } from "./database.js";
import { builtForPostgres, runSql, type SqlText } from "./sql-text.js";

/**
 * One write of a batch: hand-written SQL (sql-text.ts: `?` placeholders, and on PostgreSQL one
 * text whatever the number of rows). With `returnsIds`, the SQL must end in `RETURNING id` (or
 * `RETURNING <table>.id`) and return exactly those ids (in any order): fewer means a row
 * changed since it was read (a guard in its WHERE refused it, or another process got there
 * first), and the whole batch is refused.
 */
export type BatchWrite = SqlText & { returnsIds?: readonly string[] };

/**
 * Runs writes that do not read each other's results, in order, inside the caller's
 * transaction. On PostgreSQL they are ONE statement (each write a data-modifying CTE): one
 * round trip instead of one per write, which under a callback storm was most of the server's
 * time (socket writes to PostgreSQL, bench B1 profile), and, as its text depends only on which
 * writes it holds, a named statement (parsed and planned once per connection). Rows one write
 * inserts that another references by foreign key are checked at the end of that statement, so
 * they may come in the same batch. SQLite has no data-modifying CTEs and runs in-process: one
 * statement after another.
 *
 * Throws {@link ConflictError} (`concurrent_change`) when a write returns other ids than
 * expected; the caller's transaction must then roll back.
 */
export async function runWrites(trx: Db, writes: readonly BatchWrite[]): Promise<void> {
  if (writes.length === 0) return;
  if (dialectOf(trx) === "sqlite") {
    for (const w of writes) {
      const { rows } = await trx.executeQuery<{ id: string }>(
        CompiledQuery.raw(w.sql, w.parameters as unknown[]),
      );
      if (w.returnsIds)
        expectIds(
          rows.map((r) => r.id),
          w.returnsIds,
        );
    }
    return;
  }
  const { rows } = await trx.executeQuery<Record<string, string[]>>(
    CompiledQuery.raw(
      combinedText(writes),
      writes.flatMap((w) => w.parameters),
    ),
  );
  writes.forEach((w, i) => {
    if (w.returnsIds) expectIds(rows[0]?.[`w${i}`] ?? [], w.returnsIds);
  });
}

/** PostgreSQL: the writes as one statement (its text depends only on the writes' texts). */
function combinedText(writes: readonly BatchWrite[]): string {
  const ctes = writes.map((w, i) => `w${i} AS (${w.sql})`).join(", ");
  const results = writes.flatMap((w, i) =>
    w.returnsIds ? [`(SELECT coalesce(json_agg(w${i}.id), '[]'::json) FROM w${i}) AS w${i}`] : [],
  );
  return builtForPostgres(`WITH ${ctes} SELECT ${results.length > 0 ? results.join(", ") : "1 AS none"}`);
}

/**
 * Two writes as a unit of their own (never inside a transaction of the caller's), returning the
 * rows of `then`. `then` may read the ids `first` returned (it ends in `RETURNING id`) as the
 * table `d (id)`: say so with `readsFirst`.
 *
 * PostgreSQL: ONE statement, `WITH d AS (first) then`: all or nothing by itself, one round trip,
 * and named (one text whatever the number of rows). SQLite has no data-modifying CTEs: `first`,
 * then `then`, in one {@link writeTransaction}, with `d` read from the returned ids as one JSON
 * array parameter (one text whatever their number); when `first` returned none, a `then` that
 * reads `d` has nothing to do and is not run. `also`: writes run between the two, which may read
 * `d` as `then` does and whose rows are not returned (on PostgreSQL, more CTEs).
 */
export async function writeThen<R>(
  db: Db,
  first: SqlText,
  then: SqlText,
  { readsFirst = false, also = [] }: { readsFirst?: boolean; also?: readonly SqlText[] } = {},
): Promise<R[]> {
  if (dialectOf(db) === "postgres") {
    const extra = also.map((a, i) => `, a${i} AS (${a.sql})`).join("");
    const s = {
      sql: `WITH d AS (${first.sql})${extra} ${then.sql}`,
      parameters: [...first.parameters, ...also.flatMap((a) => a.parameters), ...then.parameters],
    };
    return (await runSql<R>(db, s)).rows;
  }
  return writeTransaction(db, async (trx) => {
    const { rows } = await runSql<{ id: string }>(trx, first);
    if (!readsFirst) {
      for (const a of also) await runSql(trx, a);
      return (await runSql<R>(trx, then)).rows;
    }
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((r) => r.id));
    const readingD = (t: SqlText) => ({
      sql: `WITH d (id) AS (SELECT value FROM json_each(?)) ${t.sql}`,
      parameters: [ids, ...t.parameters],
    });
    for (const a of also) await runSql(trx, readingD(a));
    return (await runSql<R>(trx, readingD(then))).rows;
  });
}

function expectIds(got: readonly string[], want: readonly string[]): void {
  const a = [...got].sort();
  const b = [...want].sort();
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    throw new ConflictError("A row changed meanwhile; try again", "concurrent_change");
  }
}

/**
 * PostgreSQL rolled the transaction back to break a deadlock or a serialization conflict: the
 * same work, run again, may pass (SQLite has one writer and raises neither).
 */
export function isTransientConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}
