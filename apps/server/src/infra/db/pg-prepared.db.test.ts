import { CompiledQuery, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionRepo } from "../../modules/auth/session-repo.js";
import { readDepositsForApply } from "../../modules/deposits/apply-result.js";
import { findDepositContext } from "../../modules/deposits/create-deposit-repo.js";
import { createTestDatabase, testDbKind } from "../../test/test-database.js";
import { type DatabaseHandle, migrateToLatest, openDatabase } from "./database.js";
import { preparedName, preparedOnPostgres } from "./pg-prepared.js";

// Named statements on PostgreSQL (pg-prepared.ts). One connection (pool size 1), so that
// pg_prepared_statements, which is per connection, shows what this test's statements left.

let tdb: Awaited<ReturnType<typeof createTestDatabase>>;
let h: DatabaseHandle;

beforeAll(async () => {
  tdb = await createTestDatabase();
  const database = tdb.database.kind === "postgres" ? { ...tdb.database, poolSize: 1 } : { ...tdb.database };
  h = openDatabase({ database });
  await migrateToLatest(h.db);
});
afterAll(async () => {
  await h?.close();
  await tdb?.drop();
});

async function prepared(): Promise<{ name: string; statement: string }[]> {
  const { rows } = await sql<{ name: string; statement: string }>`
    select name, statement from pg_prepared_statements where name like 'psphub%' order by name`.execute(h.db);
  return rows;
}

describe.runIf(testDbKind() === "postgres")("named statements on PostgreSQL", () => {
  it("sends a registered text as one named statement, reused with other values; others stay unnamed", async () => {
    const text = preparedOnPostgres("select $1::int + 1 as x");
    const name = preparedName(text);
    expect(name).toMatch(/^psphub_[\w-]{24}$/);
    expect(preparedOnPostgres(text)).toBe(text);
    expect(preparedName(text)).toBe(name);

    const other = "select $1::int + 2 as x";
    for (const v of [1, 41, -5]) {
      const r = await h.db.executeQuery<{ x: number }>(CompiledQuery.raw(text, [v]));
      expect(r.rows).toEqual([{ x: v + 1 }]);
      const o = await h.db.executeQuery<{ x: number }>(CompiledQuery.raw(other, [v]));
      expect(o.rows).toEqual([{ x: v + 2 }]);
    }
    const rows = await prepared();
    expect(rows.filter((r) => r.name === name)).toEqual([{ name, statement: text }]);
    expect(rows.some((r) => r.statement === other)).toBe(false);
    expect(preparedName(other)).toBeUndefined();
  });

  it("keeps the connection usable after a named statement fails", async () => {
    const text = preparedOnPostgres("select 10 / $1::int as x");
    await expect(h.db.executeQuery(CompiledQuery.raw(text, [0]))).rejects.toThrow(/division by zero/);
    const r = await h.db.executeQuery<{ x: number }>(CompiledQuery.raw(text, [5]));
    expect(r.rows).toEqual([{ x: 2 }]);
  });

  it("the hot paths' statements are named, one text whatever the number of keys", async () => {
    const sessions = createSessionRepo(h.db);
    const before = (await prepared()).length;
    const runAll = async (n: number) => {
      const keys = Array.from({ length: n }, (_, i) => `k${n}-${i}`);
      await Promise.all(keys.map((k) => sessions.findLive(k, Date.now())));
      await Promise.all(
        keys.map((k) => findDepositContext(h.db, "postgres", { tenantId: "t", clientId: k, methodId: "m" })),
      );
      await readDepositsForApply(h.db, "postgres", { orderNos: keys });
      await readDepositsForApply(h.db, "postgres", { ids: keys });
    };
    await runAll(1);
    const afterOne = await prepared();
    const added = afterOne.length - before;
    // sessions, deposit contexts, the apply step's read by order number and by id
    expect(added).toBe(4);
    const texts = afterOne.map((r) => r.statement).join("\n");
    expect(texts).toMatch(/from sessions where id_hash = any\(\$1::text\[\]\)/);
    expect(texts).toMatch(/from unnest\(\$1::int\[\], \$2::text\[\], \$3::text\[\], \$4::text\[\]\)/);
    expect(texts).toMatch(/"d"\."order_no" = any\(\$1::text\[\]\)/);
    expect(texts).toMatch(/"d"\."id" = any\(\$1::text\[\]\)/);
    await runAll(7);
    await runAll(3);
    expect((await prepared()).length).toBe(before + added);
  });
});

describe.runIf(testDbKind() === "sqlite")("on SQLite", () => {
  it("registering a text changes nothing (statements are prepared in process)", async () => {
    const text = preparedOnPostgres("select ? + 1 as x");
    const r = await h.db.executeQuery<{ x: number }>(CompiledQuery.raw(text, [2]));
    expect(r.rows).toEqual([{ x: 3 }]);
  });
});
