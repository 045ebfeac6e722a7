import { CompiledQuery } from "kysely";
import { type Db, dialectOf } from "./database.js";
import { preparedOnPostgres } from "./pg-prepared.js";

/**
 * Hand-written SQL for the hot paths (deposit creation, the API-2 batch), where building and
 * compiling a Kysely query on every call cost as much CPU as running it (bench B1 and B3
 * profiles). Everything else uses Kysely.
 *
 * Texts are written with `?` placeholders and no `?` anywhere else (no literal, comment or
 * operator holds one): SQLite takes them as they are, PostgreSQL numbered (`$1`, `$2`, …).
 * On PostgreSQL rows travel as one array parameter per column, `unnest`ed, so that a statement
 * has ONE text whatever the number of rows and is sent as a named statement (pg-prepared.ts).
 * On SQLite they travel as a VALUES list, one text per number of rows, each prepared once
 * (the statement cache in database.ts).
 */

/** A column type as PostgreSQL's arrays of a column's values are cast (the migration's type). */
export type PgType = "text" | "integer" | "bigint";

/** Every column of a table with its PostgreSQL type: the compiler checks that none is missing. */
export type ColumnTypes<T> = { [C in keyof T]-?: PgType };

/** SQL and its parameters, with `?` placeholders (see above). */
export type SqlText = { sql: string; parameters: readonly unknown[] };

/** One text per database, written once. */
export type Statement = { sqlite: string; postgres: string };

/** A statement, whitespace collapsed; its PostgreSQL text numbered and named. */
export function perDatabase(text: { sqlite: string; postgres: string }): Statement {
  const collapsed = (t: string) => t.replace(/\s+/g, " ").trim();
  return { sqlite: collapsed(text.sqlite), postgres: preparedOnPostgres(numbered(collapsed(text.postgres))) };
}

/**
 * Most texts built at run time that are named on PostgreSQL. The hot paths build a handful; past
 * this a text is sent unnamed, so that a text that varied with its rows could not fill every
 * connection with prepared statements.
 */
const BUILT_NAMED_MAX = 64;
const builtTexts = new Map<string, string>();

/**
 * PostgreSQL: a text built at run time (helpers below, one text whatever the number of rows),
 * numbered and, for the first {@link BUILT_NAMED_MAX} texts, named. Kept per text.
 */
export function builtForPostgres(text: string): string {
  let pg = builtTexts.get(text);
  if (pg === undefined) {
    pg = numbered(text);
    if (builtTexts.size < BUILT_NAMED_MAX) builtTexts.set(text, preparedOnPostgres(pg));
  }
  return pg;
}

/** Runs built SQL ({@link insertRows}, {@link rowsAsTable} and the like) on `db`, in its dialect. */
export function runSql<R>(db: Db, s: SqlText) {
  const text = dialectOf(db) === "postgres" ? builtForPostgres(s.sql) : s.sql;
  return db.executeQuery<R>(CompiledQuery.raw(text, s.parameters as unknown[]));
}

/**
 * SQL that is true when the JSON array in `column` holds an object with these fields (each a
 * SQL expression). SQLite reads JSON with json_each and json_extract; PostgreSQL tests jsonb
 * containment.
 */
export function jsonArrayHolds(db: Db, column: string, fields: Readonly<Record<string, string>>): string {
  const entries = Object.entries(fields);
  if (dialectOf(db) === "postgres") {
    const object = entries.map(([k, expr]) => `'${k}', ${expr}`).join(", ");
    return `${column}::jsonb @> jsonb_build_array(jsonb_build_object(${object}))`;
  }
  const tests = entries.map(([k, expr]) => `json_extract(j.value, '$.${k}') = ${expr}`).join(" AND ");
  return `EXISTS (SELECT 1 FROM json_each(${column}) j WHERE ${tests})`;
}

/**
 * ` FOR SHARE` where the database has row locks (PostgreSQL): the rows read are held against a
 * concurrent change until the statement's transaction ends. SQLite has one writer: nothing.
 */
export const forShare = (db: Db): string => (dialectOf(db) === "postgres" ? " FOR SHARE" : "");

/**
 * A list of keys as ONE parameter, so that a statement has one text whatever the number of keys:
 * a JSON array on SQLite (`IN (SELECT value FROM json_each(?))`), an array on PostgreSQL
 * (`= any(?::text[])`).
 */
export function keyList(db: Db, keys: readonly string[]): unknown {
  return dialectOf(db) === "sqlite" ? JSON.stringify(keys) : [...keys];
}

/** `?` placeholders as PostgreSQL's `$1`, `$2`, … */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Runs a {@link Statement} on `db` (a transaction or not), in `db`'s dialect. */
export function runStatement<R>(db: Db, s: Statement, parameters: readonly unknown[]) {
  return db.executeQuery<R>(CompiledQuery.raw(s[dialectOf(db)], parameters as unknown[]));
}

/** PostgreSQL: `unnest` of one typed array parameter per column, in the columns' order. */
const unnestOf = (types: readonly PgType[]) => `unnest(${types.map((t) => `?::${t}[]`).join(", ")})`;

/** The rows' values as one array per column (`rows` are each in column order, all as wide). */
function columnsOf(rows: readonly (readonly unknown[])[]): unknown[][] {
  const width = rows[0]?.length ?? 0;
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) cols[i]?.push(row[i]);
  return cols;
}

const valuesTexts = new Map<string, string>();

/** SQLite: `VALUES (?, …), (?, …)` for `n` rows of `width` columns (texts kept, one per shape). */
export function valuesList(width: number, n: number): string {
  const key = `${width}x${n}`;
  let text = valuesTexts.get(key);
  if (text === undefined) {
    const row = `(${Array.from({ length: width }, () => "?").join(", ")})`;
    text = `VALUES ${Array.from({ length: n }, () => row).join(", ")}`;
    valuesTexts.set(key, text);
  }
  return text;
}

/** A table for {@link insertRows}: its name and its columns in order, with their types. */
export type TableColumns<T> = {
  table: string;
  names: readonly (keyof T & string)[];
  types: readonly PgType[];
};

export function tableColumns<T>(table: string, types: ColumnTypes<T>): TableColumns<T> {
  const names = Object.keys(types) as (keyof T & string)[];
  return { table, names, types: names.map((n) => types[n]) };
}

/**
 * `INSERT INTO <table> (<every column>) <rows> <tail>`: the rows as `SELECT * FROM unnest(…)`
 * on PostgreSQL (sorted by the `orderBy` columns when given: rows then take their locks in
 * that order), as `VALUES …` on SQLite (in the order given). `tail` is what follows
 * (`ON CONFLICT …`, `RETURNING …`).
 */
export function insertRows<T>(
  db: Db,
  t: TableColumns<T>,
  rows: readonly T[],
  { tail = "", orderBy = [] }: { tail?: string; orderBy?: readonly (keyof T & string)[] } = {},
): SqlText {
  const values = rows.map((r) => t.names.map((n) => r[n]));
  if (dialectOf(db) === "postgres") {
    const sql = kept(t, `pg ${orderBy.join(",")} ${tail}`, () => {
      // By position: the columns of a multi-array unnest have no names of their own.
      const order =
        orderBy.length > 0 ? ` ORDER BY ${orderBy.map((c) => t.names.indexOf(c) + 1).join(", ")}` : "";
      return `INSERT INTO ${t.table} (${t.names.join(", ")}) SELECT * FROM ${unnestOf(t.types)} AS v${order} ${tail}`;
    });
    return { sql, parameters: columnsOf(values) };
  }
  const sql = kept(
    t,
    `lite ${rows.length} ${tail}`,
    () => `INSERT INTO ${t.table} (${t.names.join(", ")}) ${valuesList(t.names.length, rows.length)} ${tail}`,
  );
  return { sql, parameters: values.flat() };
}

/**
 * Rows as a FROM item `v` with `t`'s columns (for an UPDATE … FROM; `t.table` is not used): an
 * `unnest` on PostgreSQL, a VALUES list renamed on SQLite (whose VALUES columns are column1,
 * column2, …).
 */
export function rowsAsTable<T>(db: Db, t: TableColumns<T>, rows: readonly T[]): SqlText {
  const values = rows.map((r) => t.names.map((n) => r[n]));
  if (dialectOf(db) === "postgres") {
    const sql = kept(t, "pg from", () => `${unnestOf(t.types)} AS v (${t.names.join(", ")})`);
    return { sql, parameters: columnsOf(values) };
  }
  const sql = kept(t, `lite from ${rows.length}`, () => {
    const renamed = t.names.map((name, i) => `column${i + 1} AS ${name}`).join(", ");
    return `(SELECT ${renamed} FROM (${valuesList(t.names.length, rows.length)})) AS v`;
  });
  return { sql, parameters: values.flat() };
}

/**
 * The texts built for a table, kept by shape (dialect, number of rows on SQLite, tail): the hot
 * paths build them on every call, and a text is the same every time for one shape. Bounded as
 * the statement cache is: a table has a few uses, each one shape per batch size.
 */
const keptTexts = new WeakMap<object, Map<string, string>>();
function kept(t: object, shape: string, build: () => string): string {
  let texts = keptTexts.get(t);
  if (!texts) {
    texts = new Map();
    keptTexts.set(t, texts);
  }
  let text = texts.get(shape);
  if (text === undefined) {
    text = build();
    if (texts.size < 1_000) texts.set(shape, text);
  }
  return text;
}
