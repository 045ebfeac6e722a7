import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { type CompiledQuery, type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConflictError } from "../../common/errors.js";
import { createTestDatabase, testDbKind } from "../../test/test-database.js";
import { type DatabaseHandle, migrateToLatest, openDatabase, writeTransaction } from "./database.js";
import { runWrites, writeThen } from "./write-batch.js";

const require = createRequire(import.meta.url);

// The batch writer of the API-2 path: several writes, one statement on PostgreSQL, refused
// whole when a write does not return the rows it must.

type T = { wb_parent: { id: string; n: number }; wb_child: { id: string; parent_id: string } };
let tdb: Awaited<ReturnType<typeof createTestDatabase>>;
let h: DatabaseHandle;
const db = () => h.db as unknown as Kysely<T>;

beforeAll(async () => {
  tdb = await createTestDatabase();
  h = openDatabase({ database: tdb.database });
  await migrateToLatest(h.db);
  await sql`CREATE TABLE wb_parent (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`.execute(h.db);
  await sql`CREATE TABLE wb_child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES wb_parent(id))`.execute(
    h.db,
  );
  await sql`INSERT INTO wb_parent (id, n) VALUES ('p0', 1)`.execute(h.db);
});
afterAll(async () => {
  await h?.close();
  await tdb?.drop();
});

const ids = async (table: "wb_parent" | "wb_child") =>
  (await db().selectFrom(table).select("id").orderBy("id").execute()).map((r) => r.id);

const inTx = <R>(fn: (trx: Kysely<T>) => Promise<R>) =>
  writeTransaction(h.db, (trx) => fn(trx as unknown as Kysely<T>));

describe("runWrites", () => {
  it("runs every write, a parent and the child that references it included, in one transaction", async () => {
    await inTx((trx) =>
      runWrites(trx as never, [
        {
          sql: "INSERT INTO wb_parent (id, n) VALUES (?, ?) RETURNING id",
          parameters: ["p1", 1],
          returnsIds: ["p1"],
        },
        { sql: "INSERT INTO wb_child (id, parent_id) VALUES (?, ?)", parameters: ["c1", "p1"] },
        // Writes of one batch touch different rows: on PostgreSQL they all see the database as
        // it was before the statement.
        {
          sql: "UPDATE wb_parent SET n = ? WHERE id = ? RETURNING id",
          parameters: [2, "p0"],
          returnsIds: ["p0"],
        },
      ]),
    );
    expect(await ids("wb_parent")).toEqual(["p0", "p1"]);
    expect(await ids("wb_child")).toEqual(["c1"]);
    const p0 = await db()
      .selectFrom("wb_parent")
      .select("n")
      .where("id", "=", "p0")
      .executeTakeFirstOrThrow();
    expect(Number(p0.n)).toBe(2);
  });

  it("refuses the whole batch when a write returns other rows than expected: nothing of it stays", async () => {
    const attempt = inTx((trx) =>
      runWrites(trx as never, [
        { sql: "INSERT INTO wb_parent (id, n) VALUES (?, ?)", parameters: ["p2", 1] },
        // A guarded update whose guard no longer holds (n is 2 now): no row comes back.
        {
          sql: "UPDATE wb_parent SET n = ? WHERE id = ? AND n = ? RETURNING id",
          parameters: [9, "p0", 1],
          returnsIds: ["p0"],
        },
      ]),
    );
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    expect(await ids("wb_parent")).toEqual(["p0", "p1"]);
  });

  it("a constraint failing in any write rolls back the writes before it", async () => {
    const attempt = inTx((trx) =>
      runWrites(trx as never, [
        { sql: "INSERT INTO wb_parent (id, n) VALUES (?, ?)", parameters: ["p3", 1] },
        { sql: "INSERT INTO wb_child (id, parent_id) VALUES (?, ?)", parameters: ["c1", "p3"] },
      ]),
    );
    await expect(attempt).rejects.toThrow();
    expect(await ids("wb_parent")).toEqual(["p0", "p1"]);
    expect(await ids("wb_child")).toEqual(["c1"]);
  });

  it.runIf(testDbKind() === "postgres")("is one statement on PostgreSQL", async () => {
    const seen: CompiledQuery[] = [];
    await inTx(async (trx) => {
      // Count what reaches the database through this transaction's executor.
      const exec = trx.getExecutor();
      const orig = exec.executeQuery.bind(exec);
      (exec as { executeQuery: typeof orig }).executeQuery = <R>(q: CompiledQuery<R>) => {
        seen.push(q);
        return orig(q);
      };
      await runWrites(trx as never, [
        {
          sql: "INSERT INTO wb_parent (id, n) VALUES (?, ?) RETURNING id",
          parameters: ["p4", 1],
          returnsIds: ["p4"],
        },
        { sql: "INSERT INTO wb_child (id, parent_id) VALUES (?, ?)", parameters: ["c4", "p4"] },
      ]);
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.sql).toBe(
      "WITH w0 AS (INSERT INTO wb_parent (id, n) VALUES ($1, $2) RETURNING id), " +
        "w1 AS (INSERT INTO wb_child (id, parent_id) VALUES ($3, $4)) " +
        "SELECT (SELECT coalesce(json_agg(w0.id), '[]'::json) FROM w0) AS w0",
    );
    expect(seen[0]?.parameters).toEqual(["p4", 1, "c4", "p4"]);
    expect(await ids("wb_child")).toEqual(["c1", "c4"]);
  });
});

describe.runIf(testDbKind() === "sqlite")("writeTransaction on SQLite", () => {
  it("waits for another connection's writer instead of failing with 'database is locked'", async () => {
    const file = (tdb.database as { file: string }).file;
    // Our connection has read before: without BEGIN IMMEDIATE its transaction would read a
    // snapshot from before the other writer's commit, then fail at its first write with
    // "database is locked" (SQLITE_BUSY_SNAPSHOT). The other writer is a thread of its own:
    // SQLite's busy wait blocks this one.
    await sql`SELECT count(*) FROM wb_parent`.execute(h.db);
    const other = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       const SQLite = require(workerData.module);
       const db = new SQLite(workerData.file);
       db.pragma("busy_timeout = 5000");
       db.exec("BEGIN IMMEDIATE");
       db.prepare("INSERT INTO wb_parent (id, n) VALUES ('o1', 1)").run();
       parentPort.postMessage("locked");
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
       db.exec("COMMIT");
       db.close();`,
      { eval: true, workerData: { file, module: require.resolve("better-sqlite3") } },
    );
    await new Promise((resolve) => other.once("message", resolve));
    await inTx(async (trx) => {
      await sql`SELECT count(*) FROM wb_parent`.execute(trx);
      await trx.insertInto("wb_parent").values({ id: "o2", n: 1 }).execute();
    });
    await new Promise((resolve) => other.once("exit", resolve));
    expect(await ids("wb_parent")).toEqual(expect.arrayContaining(["o1", "o2"]));
  });
});

describe("writeThen", () => {
  const parents = (ps: [string, number][]) => ({
    sql: `INSERT INTO wb_parent (id, n) SELECT * FROM (SELECT ? AS id, CAST(? AS INTEGER) AS n${" UNION ALL SELECT ?, CAST(? AS INTEGER)".repeat(ps.length - 1)}) p WHERE p.n > 0 ON CONFLICT (id) DO NOTHING RETURNING id`,
    parameters: ps.flat(),
  });
  const childrenOfInserted = (cs: [string, string][]) => ({
    sql: `INSERT INTO wb_child (id, parent_id) SELECT c.id, c.parent_id FROM (SELECT ? AS id, ? AS parent_id${" UNION ALL SELECT ?, ?".repeat(cs.length - 1)}) c JOIN d ON d.id = c.parent_id RETURNING id`,
    parameters: cs.flat(),
  });

  it("writes the second only for the rows the first returned, and returns the second's rows", async () => {
    const rows = await writeThen<{ id: string }>(
      h.db,
      parents([
        ["t1", 1],
        ["t2", 0], // refused by the first write's WHERE
        ["p0", 1], // exists: ignored
      ]),
      childrenOfInserted([
        ["tc1", "t1"],
        ["tc2", "t2"],
        ["tc0", "p0"],
      ]),
      { readsFirst: true },
    );
    expect(rows.map((r) => r.id)).toEqual(["tc1"]);
    expect(await ids("wb_child")).toContain("tc1");
    expect(await ids("wb_child")).not.toContain("tc0");
  });

  it("when the first returns nothing, a second that reads it writes nothing", async () => {
    const rows = await writeThen(h.db, parents([["t3", 0]]), childrenOfInserted([["tc3", "t3"]]), {
      readsFirst: true,
    });
    expect(rows).toEqual([]);
    expect(await ids("wb_parent")).not.toContain("t3");
  });

  it("is all or nothing: when the second fails, the first is not written either", async () => {
    await expect(
      writeThen(h.db, parents([["t4", 1]]), {
        sql: "INSERT INTO wb_child (id, parent_id) VALUES (?, ?)",
        parameters: ["tc4", "no-such-parent"],
      }),
    ).rejects.toThrow();
    expect(await ids("wb_parent")).not.toContain("t4");
  });
});
