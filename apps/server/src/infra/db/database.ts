import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  type SqliteDatabase,
  SqliteDialect,
  sql,
} from "kysely";
import pg from "pg";
import type { Config } from "../../config/config.js";
import { migrationProvider } from "./migrations/index.js";
import { PreparingClient } from "./pg-prepared.js";
import type { Database } from "./schema.js";
import { startSqliteCheckpointer } from "./sqlite-checkpointer.js";

/**
 * The database handle every repository takes: a Kysely instance or one of its transactions. It
 * knows its dialect ({@link dialectOf}), so SQL that differs by database is chosen where it is
 * built (infra/db and repositories) and use-cases never branch on the database.
 */
export type Db = Kysely<Database>;
export type DbKind = "sqlite" | "postgres";

/** The dialect of a handle (the database itself or any of its transactions). */
export function dialectOf(db: Db): DbKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite";
}

/**
 * Whether `SELECT … FOR UPDATE` means anything on this handle: PostgreSQL has row locks; SQLite
 * has one writer (every write path runs in {@link writeTransaction}) and needs none.
 */
export const hasRowLocks = (db: Db): boolean => dialectOf(db) === "postgres";

export interface DatabaseHandle {
  db: Db;
  kind: DbKind;
  close(): Promise<void>;
}

const PG_INT8 = 20;

/** BIGINT as a JS number on both databases; refuse silently-rounded values loudly instead. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`BIGINT value ${text} exceeds the safe integer range`);
  return n;
}

export type OpenDatabaseOptions = {
  /**
   * SQLite: checkpoint the WAL in a worker thread instead of inside the commits of the event
   * loop's thread (sqlite-checkpointer.ts). For a long-running server; a CLI command or a test
   * does not need the thread.
   */
  backgroundCheckpoints?: boolean;
  /** Told when a background checkpoint fails (the automatic backstop keeps the WAL bounded). */
  onCheckpointError?: (err: Error) => void;
};

/** Opens the configured database. SQLite: a WAL-mode file under DATA_DIR. PostgreSQL: a pool. */
export function openDatabase(
  config: Pick<Config, "database">,
  opts: OpenDatabaseOptions = {},
): DatabaseHandle {
  const c = config.database;
  if (c.kind === "postgres") {
    const pool = new pg.Pool({
      connectionString: c.url,
      max: c.poolSize,
      // The hot paths' statements as named statements (pg-prepared.ts).
      Client: PreparingClient,
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === PG_INT8 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // A dropped idle connection must not crash the process.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: "postgres", close: () => db.destroy() };
  }
  if (c.file !== ":memory:") {
    // Owner-only: the file holds password hashes and sealed tokens. Created
    // here before SQLite opens it, since SQLite gives -wal and -shm the database file's mode.
    mkdirSync(dirname(c.file), { recursive: true, mode: 0o700 });
    closeSync(openSync(c.file, "a", 0o600));
  }
  const sqlite = new SQLite(c.file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  const checkpointer =
    opts.backgroundCheckpoints && c.file !== ":memory:"
      ? startSqliteCheckpointer(c.file, { onError: opts.onCheckpointError })
      : undefined;
  // Without the worker: checkpoint every ~16 MB of WAL instead of ~4 MB, a quarter of the
  // checkpoints (each an fsync that stalls the event loop) under a callback storm. With it: only
  // as a backstop (~80 MB), should the worker fall behind; the WAL file is cut back to 64 MB
  // when it restarts after growing past that.
  sqlite.pragma(`wal_autocheckpoint = ${checkpointer ? 20_000 : 4_000}`);
  sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  sqlite.pragma("foreign_keys = ON");
  // 16 MiB of page cache instead of 2 MiB: the indexes a callback touches stay in memory as the
  // tables grow (bench B4: a million orders).
  sqlite.pragma("cache_size = -16384");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    kind: "sqlite",
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * Most distinct SQL texts kept prepared: the app issues a few hundred shapes, and a callback
 * batch's multi-row statements one shape per batch size (up to 128) for each of its ~6 writes.
 */
const STATEMENT_CACHE_SIZE = 800;

/**
 * Kysely's SQLite driver prepares every query anew; compiling the SQL was a tenth of the
 * callback path's CPU (profiled in bench B1). This keeps prepared statements by SQL text, least
 * recently used out first. Safe because the driver runs one query at a time on its one
 * connection (a mutex), so a cached statement is never in use twice at once.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (sql: string): SQLite.Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = sqlite.prepare(sql);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  return {
    prepare,
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

/**
 * THE transaction of every write path. On SQLite it takes the write lock at its start (`BEGIN
 * IMMEDIATE`, waiting up to the busy timeout for another process's writer) instead of at its
 * first write, where a read snapshot that another process has written past fails at once with
 * "database is locked". On PostgreSQL, a plain transaction.
 */
export async function writeTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (dialectOf(db) === "postgres") return db.transaction().execute(fn);
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`COMMIT`.execute(conn);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(conn).catch(() => {});
      throw err;
    }
  });
}

/** Applies every pending migration. Safe to run from several processes at once. */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Readiness: a round trip to the database. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** SUM() comes back as a number (SQLite) or a numeric string (PostgreSQL); both become bigint. */
export function toBigInt(v: unknown): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  return BigInt(String(v));
}

/** Money columns hold safe integers (amounts are capped at 15 significant digits). */
export function toDbMinor(v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error("amount outside the storable range");
  return n;
}

export const encodeJson = (v: unknown): string => JSON.stringify(v);
export function decodeJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === "") return fallback;
  return JSON.parse(text) as T;
}
export const toBool = (v: number | boolean | null | undefined): boolean => v === 1 || v === true;
export const fromBool = (v: boolean): 0 | 1 => (v ? 1 : 0);

/**
 * True when the error is the ledger's exactly-once guard firing (`ledger_one_credit_per_deposit`):
 * a second credit for the same deposit. Only this violation means "already applied"; any other
 * unique violation in the same transaction is a real error and must not be taken for a repeat.
 */
export function isLedgerCreditViolation(err: unknown): boolean {
  if (!isUniqueViolation(err)) return false;
  const e = err as { constraint?: string; message?: string };
  return (
    e.constraint === "ledger_one_credit_per_deposit" ||
    (typeof e.message === "string" && e.message.includes("ledger_entries.deposit_id"))
  );
}

/** True when the error is a unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  return (
    e.code === "23505" || e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}
