import { type Expression, type RawBuilder, type SelectQueryBuilder, sql } from "kysely";
import { z } from "zod";
import { type Db, dialectOf } from "./database.js";

/**
 * Server-side ordering of the back office's lists: a whitelisted `sort=column:dir` query
 * parameter, ORDER BY its SQL keys with the row id as the last, stable tie-breaker, and keyset
 * pages in that same order for exports (docs/architecture.md#lists-sorting-and-export).
 */

export const SORT_DIRS = ["asc", "desc"] as const;
export type SortDir = (typeof SORT_DIRS)[number];
export type Sort<C extends string = string> = { column: C; dir: SortDir };
export type SortValue<C extends string> = `${C}:${SortDir}`;

/** The `sort` query parameter of a list: `column:dir`, column from `columns`; anything else is a 400. */
export function sortParam<const C extends string>(columns: readonly C[], fallback: SortValue<C>) {
  const values = columns.flatMap((c) => SORT_DIRS.map((d): SortValue<C> => `${c}:${d}`));
  const allowed = values.join(", ");
  return z
    .enum(values as [SortValue<C>, ...SortValue<C>[]], { error: () => `sort must be one of: ${allowed}` })
    .default(fallback as never)
    .describe(`order of the whole list: column:asc or column:desc, one of ${allowed}; default ${fallback}`);
}

export function parseSort<C extends string>(value: SortValue<C>): Sort<C> {
  const at = value.lastIndexOf(":");
  return { column: value.slice(0, at) as C, dir: value.slice(at + 1) as SortDir };
}

/**
 * The SQL that one sortable column orders by, most significant first. Built per handle, since
 * text keys take PostgreSQL's "C" collation: byte order, as SQLite's default, so both databases
 * order alike and the keyset comparison uses exactly the collation of the ORDER BY.
 */
export type SortKeys = readonly Expression<unknown>[];

/** A text key in byte order on both databases. */
export function textKey(db: Db, expr: Expression<unknown>): RawBuilder<string> {
  return dialectOf(db) === "postgres" ? sql<string>`${expr} collate "C"` : sql<string>`${expr}`;
}

/** Case-insensitive text key (`lower`: ASCII only on SQLite, Unicode on PostgreSQL). */
export function foldedTextKey(db: Db, expr: Expression<unknown>): RawBuilder<string> {
  return textKey(db, sql`lower(coalesce(${expr}, ''))`);
}

/** A list's sortable columns: the API name → its keys on this handle; `id` is the row id column. */
export type SortSpec<C extends string> = {
  keys: (db: Db) => Record<C, SortKeys>;
  id: string;
};

const keyAlias = (i: number) => `sort_key_${i}`;

/** Where a keyset page starts: the sort keys and the id of the last row of the page before. */
export type Keyset = { keys: unknown[]; id: string };

/**
 * Orders `q` by the sort's keys, then the row id, all in the sort's direction, and selects the
 * keys as `sort_key_N` so a keyset page can continue after the last row ({@link keysetOf}).
 * With `after`, only the rows that follow that position.
 */
export function applySort<DB, TB extends keyof DB, O>(
  db: Db,
  q: SelectQueryBuilder<DB, TB, O>,
  spec: SortSpec<string>,
  sort: Sort,
  after?: Keyset,
): SelectQueryBuilder<DB, TB, O> {
  const keys = spec.keys(db)[sort.column];
  if (!keys) throw new Error(`no sort keys for ${sort.column}`);
  const id = textKey(db, sql.ref(spec.id));
  let out = q;
  keys.forEach((k, i) => {
    out = out.select(sql`${k}`.as(keyAlias(i)) as never) as typeof out;
  });
  if (after) {
    // A row value comparison, so the page continues exactly after (keys, id) in this order.
    const left = sql.join([...keys, id]);
    const right = sql.join([...after.keys, after.id].map((v) => sql`${v}`));
    const op = sql.raw(sort.dir === "desc" ? "<" : ">");
    out = out.where(sql<boolean>`(${left}) ${op} (${right})` as never) as typeof out;
  }
  for (const k of keys) out = out.orderBy(k as never, sort.dir) as typeof out;
  return out.orderBy(id as never, sort.dir) as typeof out;
}

/** The keyset position after `row`, a row selected through {@link applySort}. */
export function keysetOf(row: Record<string, unknown>, keyCount: number, id: string): Keyset {
  return { keys: Array.from({ length: keyCount }, (_, i) => row[keyAlias(i)]), id };
}

/**
 * Every row of a sorted list, one keyset page of `batchSize` at a time: never the whole set in
 * memory, and each page a short query of its own (no transaction held while a client reads).
 */
export async function* keysetBatches<R>(
  fetch: (after: Keyset | undefined, limit: number) => Promise<{ rows: R[]; last: Keyset | undefined }>,
  batchSize = 500,
): AsyncGenerator<R[]> {
  let after: Keyset | undefined;
  for (;;) {
    const { rows, last } = await fetch(after, batchSize);
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize || !last) return;
    after = last;
  }
}
