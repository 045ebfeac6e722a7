import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase } from "./database.js";
import { type CheckpointResult, startSqliteCheckpointer } from "./sqlite-checkpointer.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "psphub-ckpt-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A connection like the server's, minus automatic checkpoints: only the worker may do them. */
function mainConnection(file: string) {
  const db = new SQLite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  return db;
}

function writeRows(db: SQLite.Database, n: number) {
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  // Many small transactions, as a server commits them.
  for (let i = 0; i < n; i += 50) {
    db.transaction(() => {
      for (let j = i; j < Math.min(n, i + 50); j++) insert.run(`row ${j} ${"x".repeat(200)}`);
    })();
  }
}

/** Resolves with the first checkpoint that copied every frame of the WAL. */
function completeCheckpoint(results: CheckpointResult[]): Promise<CheckpointResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const done = results.find((r) => r.log > 0 && r.checkpointed === r.log);
      if (done) {
        clearInterval(poll);
        results.length = 0;
        resolve(done);
      } else if (Date.now() - started > 10_000) {
        clearInterval(poll);
        reject(new Error(`no complete checkpoint in 10 s: ${JSON.stringify(results)}`));
      }
    }, 10);
  });
}

/**
 * Runs `fn` with a checkpointer on `file` (50 ms apart) whose reports go to `results`, then
 * stops it and closes `db`, whatever happened.
 */
async function withCheckpointer(
  file: string,
  db: SQLite.Database,
  fn: (results: CheckpointResult[]) => Promise<void>,
): Promise<void> {
  const results: CheckpointResult[] = [];
  const ckpt = startSqliteCheckpointer(file, { intervalMs: 50, onCheckpoint: (r) => results.push(r) });
  try {
    await fn(results);
  } finally {
    await ckpt.stop();
    db.close();
  }
}

describe("background WAL checkpoints (SQLite)", () => {
  it("move committed pages into the database file from the worker, not from the committing thread", async () => {
    const file = join(dir, "a.sqlite");
    const db = mainConnection(file);
    // Every row is in the WAL before the worker starts: its first complete checkpoint must copy
    // them all (one that ran during the writes would cover only the frames written by then).
    writeRows(db, 3_000);
    await withCheckpointer(file, db, async (results) => {
      const r = await completeCheckpoint(results);
      expect(r.log).toBeGreaterThan(100);
      // The database file alone (no WAL beside it) holds every committed row.
      const copy = join(dir, "copy.sqlite");
      copyFileSync(file, copy);
      const alone = new SQLite(copy, { readonly: true });
      expect(alone.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 3_000 });
      alone.close();
    });
  });

  it("keep the WAL file from growing: after a complete checkpoint the next writer starts it over", async () => {
    const file = join(dir, "b.sqlite");
    const db = mainConnection(file);
    await withCheckpointer(file, db, async (results) => {
      const sizes: number[] = [];
      for (let round = 0; round < 8; round++) {
        writeRows(db, 1_000);
        await completeCheckpoint(results);
        sizes.push(statSync(`${file}-wal`).size);
      }
      // Eight rounds of 1,000 rows without checkpoints would make a WAL eight times the first.
      expect(Math.max(...sizes)).toBeLessThan(sizes[0]! * 2);
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 8_000 });
    });
  });

  it("stop() closes the worker's connection: the last connection's close then removes the WAL", async () => {
    const file = join(dir, "c.sqlite");
    const db = mainConnection(file);
    const ckpt = startSqliteCheckpointer(file, { intervalMs: 50 });
    writeRows(db, 100);
    await ckpt.stop();
    await ckpt.stop(); // idempotent
    db.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = new SQLite(file, { readonly: true });
    expect(again.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 100 });
    again.close();
  });

  it("openDatabase keeps automatic checkpoints only as a backstop when the worker runs", async () => {
    const file = join(dir, "d.sqlite");
    const withWorker = openDatabase({ database: { kind: "sqlite", file } }, { backgroundCheckpoints: true });
    const without = openDatabase({ database: { kind: "sqlite", file: join(dir, "e.sqlite") } });
    try {
      const pragma = async (h: typeof withWorker) =>
        (await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(h.db)).rows[0]
          ?.wal_autocheckpoint;
      expect(await pragma(withWorker)).toBe(20_000);
      expect(await pragma(without)).toBe(4_000);
      await sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`.execute(withWorker.db);
      await sql`INSERT INTO t (id) VALUES (1)`.execute(withWorker.db);
    } finally {
      await withWorker.close();
      await without.close();
    }
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
