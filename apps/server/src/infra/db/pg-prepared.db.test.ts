import { CompiledQuery, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionReader } from "../../modules/auth/session-repo.js";
import { callbackLogsWrite } from "../../modules/callbacks/callback-log-repo.js";
import { createDepositWriter } from "../../modules/deposits/create-deposit-repo.js";
import { readOrders, settlementWrites } from "../../modules/settlement/settlement-store.js";
import { depositRowFor } from "../../test/callback-client.js";
import type { PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestDatabase, testDbKind } from "../../test/test-database.js";
import { type DatabaseHandle, migrateToLatest, openDatabase } from "./database.js";
import { preparedName, preparedOnPostgres } from "./pg-prepared.js";
import { runWrites } from "./write-batch.js";

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
    const sessions = createSessionReader(h.db);
    const deposits = createDepositWriter(h.db);
    const before = (await prepared()).length;
    const runAll = async (n: number) => {
      const keys = Array.from({ length: n }, (_, i) => `k${n}-${i}`);
      await Promise.all(keys.map((k) => sessions.findLive(k, Date.now())));
      await Promise.all(keys.map((k) => deposits.findContext({ tenantId: "t", clientId: k, methodId: "m" })));
      await readOrders(h.db, { orderNos: keys });
      await readOrders(h.db, { ids: keys });
    };
    await runAll(1);
    const afterOne = await prepared();
    const added = afterOne.length - before;
    // sessions, deposit contexts, the settlement's read by order number and by id
    expect(added).toBe(4);
    const texts = afterOne.map((r) => r.statement).join("\n");
    expect(texts).toMatch(
      /from sessions s join tenants t on t.id = s.tenant_id where s.id_hash = any\(\$1::text\[\]\)/,
    );
    expect(texts).toMatch(
      /FROM unnest\(\$1::integer\[\], \$2::text\[\], \$3::text\[\], \$4::text\[\]\) AS v \(n, tenant_id, client_id, method_id\)/,
    );
    expect(texts).toMatch(/WHERE d\.order_no = any\(\$1::text\[\]\) ORDER BY d\.id FOR NO KEY UPDATE OF d/);
    expect(texts).toMatch(/WHERE d\.id = any\(\$1::text\[\]\) ORDER BY d\.id FOR NO KEY UPDATE OF d/);
    await runAll(7);
    await runAll(3);
    expect((await prepared()).length).toBe(before + added);
  });

  it("deposit creation's insert step is one named statement, one text whatever the number of orders", async () => {
    const deposits = createDepositWriter(h.db);
    const before = (await prepared()).length;
    const insertAll = async (n: number) => {
      const fx = { tenantId: "t", clientId: "c", methodId: "m", integrationId: "i" } as PaymentFixture;
      const rows = Array.from({ length: n }, () => depositRowFor(fx, 1, { payment_url: null }));
      // No such method: the guard refuses every order, and no event is written.
      const inserted = await Promise.all(
        rows.map((r) =>
          deposits.insert(r, {
            tenantId: "t",
            depositId: r.id,
            now: 1,
            event: {
              kind: "created",
              data: { by: "client", actorId: "c", amount: "1", currency: "USD", fee: "0" },
            },
          }),
        ),
      );
      expect(inserted).toEqual(rows.map(() => false));
    };
    await insertAll(1);
    const afterOne = await prepared();
    expect(afterOne.length).toBe(before + 1);
    expect(afterOne.map((r) => r.statement).join("\n")).toMatch(
      /WITH d AS \(INSERT INTO deposits .* FOR SHARE\) ON CONFLICT .* RETURNING id\), a0 AS \(INSERT INTO webhook_events .*\), a1 AS \(INSERT INTO webhook_deliveries .*\) INSERT INTO deposit_events .* JOIN d ON d\.id = v\.deposit_id/,
    );
    await insertAll(5);
    await insertAll(2);
    expect((await prepared()).length).toBe(before + 1);
  });

  it("a batch of writes is one named statement, one text whatever the number of rows", async () => {
    const before = (await prepared()).length;
    const batch = async (n: number) => {
      const keys = Array.from({ length: n }, (_, i) => `b${n}-${i}`);
      // No such deposits: the update changes nothing, and the batch is refused after it ran.
      const writes = settlementWrites(
        h.db,
        {
          transitions: keys.map((id) => ({
            id,
            expected: "pending" as const,
            status: "succeeded" as const,
            finalizedAt: 1,
            creditMinor: 100n,
            markupMinor: null,
            paidMinor: 100n,
            transactionId: null,
            pspTime: 1,
            failureReason: null,
            failureMessage: null,
            clearFailure: true,
          })),
          postings: [],
          events: keys.map((k) => ({
            tenantId: "t",
            depositId: k,
            now: 1,
            event: {
              kind: "status_change" as const,
              data: { from: "pending", to: "succeeded", cause: "callback" },
            },
          })),
          webhooks: keys.map((k) => ({
            tenantId: "t",
            type: "deposit.succeeded" as const,
            depositId: k,
            orderNo: k,
            data: { sequence: null },
            now: 1,
          })),
          orders: new Map(),
          now: 1,
        },
        {
          log: callbackLogsWrite(
            h.db,
            keys.map((k) => ({
              tenant_id: null,
              integration_id: null,
              deposit_id: null,
              merchant_id: null,
              order_no: k,
              content_type: null,
              raw_body: "{}",
              verdict: "rejected" as const,
              error_type: "payment_not_found",
              http_status: 400,
              remote_addr: null,
              created_at: 1,
            })),
          ),
        },
      );
      await expect(runWrites(h.db, writes)).rejects.toThrow(/changed meanwhile/);
    };
    await batch(1);
    const afterOne = await prepared();
    expect(afterOne.length).toBe(before + 1);
    const text = afterOne.map((r) => r.statement).find((t) => t.startsWith("WITH w0 AS (UPDATE deposits"));
    expect(text).toMatch(/w1 AS \(INSERT INTO callback_logs .* FROM unnest\(/);
    expect(text).toMatch(/w2 AS \(INSERT INTO deposit_events .* FROM unnest\(/);
    await batch(5);
    await batch(64);
    expect((await prepared()).length).toBe(before + 1);
  });
});

describe.runIf(testDbKind() === "sqlite")("on SQLite", () => {
  it("registering a text changes nothing (statements are prepared in process)", async () => {
    const text = preparedOnPostgres("select ? + 1 as x");
    const r = await h.db.executeQuery<{ x: number }>(CompiledQuery.raw(text, [2]));
    expect(r.rows).toEqual([{ x: 3 }]);
  });
});
