import { type Compilable, type OperationNodeSource, type RawBuilder, sql } from "kysely";
import { ConflictError } from "../../shared/errors.js";
import type { Db, DbKind } from "./database.js";

/**
 * One write of a batch. With `returnsIds`, the query must end in `RETURNING id` and return
 * exactly those ids (in any order): fewer means a row changed since it was read (a guard in
 * its WHERE refused it, or another process got there first), and the whole batch is refused.
 */
export type BatchWrite = {
  query: Compilable & OperationNodeSource;
  returnsIds?: readonly string[];
};

/**
 * Runs writes that do not read each other's results, in order, inside the caller's
 * transaction. On PostgreSQL they are ONE statement (each write a data-modifying CTE): one
 * round trip instead of one per write, which under a callback storm was most of the server's
 * time (socket writes to PostgreSQL, bench B1 profile). Rows one write inserts that another
 * references by foreign key are checked at the end of that statement, so they may come in the
 * same batch. SQLite has no data-modifying CTEs and runs in-process: one statement after another.
 *
 * Throws {@link ConflictError} (`concurrent_change`) when a write returns other ids than
 * expected; the caller's transaction must then roll back.
 */
export async function runWrites(trx: Db, kind: DbKind, writes: readonly BatchWrite[]): Promise<void> {
  if (writes.length === 0) return;
  if (kind === "sqlite") return runWritesInOrder(trx, writes);
  const named = writes.map((w, i) => ({ ...w, name: `w${i}` }));
  const checked = named.filter((w) => w.returnsIds);
  const results =
    checked.length === 0
      ? sql`1 AS none`
      : sql.join(
          checked.map(
            (w) =>
              sql`(SELECT coalesce(json_agg(${sql.ref(`${w.name}.id`)}), '[]'::json) FROM ${sql.table(w.name)}) AS ${sql.ref(w.name)}`,
          ),
        );
  const { rows } = await sql<Record<string, string[]>>`WITH ${sql.join(
    named.map((w) => sql`${sql.table(w.name)} AS (${w.query})`),
  )} SELECT ${results}`.execute(trx);
  for (const w of checked) expectIds(rows[0]?.[w.name] ?? [], w.returnsIds as readonly string[]);
}

/** The same writes as separate statements, one after another (either database). */
export async function runWritesInOrder(trx: Db, writes: readonly BatchWrite[]): Promise<void> {
  for (const w of writes) {
    const { rows } = await trx.executeQuery<{ id: string }>(w.query.compile());
    if (w.returnsIds)
      expectIds(
        rows.map((r) => r.id),
        w.returnsIds,
      );
  }
}

function expectIds(got: readonly string[], want: readonly string[]): void {
  const a = [...got].sort();
  const b = [...want].sort();
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    throw new ConflictError("A row changed meanwhile; try again", "concurrent_change");
  }
}

/** A raw SQL write as a {@link BatchWrite} query (raw SQL compiles against a database). */
export function compilableRaw(db: Db, raw: RawBuilder<unknown>): Compilable & OperationNodeSource {
  return { compile: () => raw.compile(db), toOperationNode: () => raw.toOperationNode() };
}
