import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../modules/audit/audit-repo.js";
import { insertCallbackLog } from "../modules/callbacks/callback-log-repo.js";
import { adminDepositBatches, DEPOSIT_SORT_COLUMNS } from "../modules/deposits/deposit-queries.js";
import { insertDeposit } from "../test/callback-client.js";
import { postLedgerEntry } from "../test/ledger-postings.js";
import {
  insertClient,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
} from "../test/payment-fixtures.js";
import { createTestApp, type Session, seedTenant, type TestApp } from "../test/test-app.js";

/**
 * The back office's lists sorted on the server over the whole list, page after page, and their
 * CSV exports: content, quoting, the formula guard, roles and tenant isolation.
 */

let t: TestApp;
let a: Awaited<ReturnType<typeof seedTenant>>;
let b: Awaited<ReturnType<typeof seedTenant>>;
let fa: PaymentFixture;
let fb: PaymentFixture;
let depositIds: string[];
let clientNames: Map<string, string>;
let otherMethodId: string;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

type Deposit = {
  id: string;
  orderNo: string;
  createdAt: number;
  amount: string;
  currency: string;
  clientName: string | null;
  methodName: string | null;
  status: string;
};

beforeAll(async () => {
  t = await createTestApp();
  a = await seedTenant(t);
  b = await seedTenant(t);
  fa = await insertPaymentSetup(t.ctx, a.tenantId);
  fb = await insertPaymentSetup(t.ctx, b.tenantId);
  otherMethodId = await insertMethod(t.ctx, a.tenantId, fa.integrationId);
  await t.ctx.db
    .updateTable("deposit_methods")
    .set({ name: "bank wire" })
    .where("id", "=", otherMethodId)
    .execute();
  // Names that sort differently by case and that a spreadsheet would run as a formula.
  const names = ["alice", "Bob", '=HYPERLINK("http://x","y")', 'carol, "the" client'];
  const clients = [fa.clientId];
  for (let i = 1; i < names.length; i++) clients.push((await insertClient(t.ctx, a.tenantId)).clientId);
  clientNames = new Map();
  for (const [i, id] of clients.entries()) {
    await t.ctx.db
      .updateTable("clients")
      .set({ name: names[i] as string })
      .where("id", "=", id)
      .execute();
    clientNames.set(id, names[i] as string);
  }
  // 31 deposits: repeated creation times and amounts (ties), three exponents, several statuses.
  const currencies = [
    { currency: "USD", decimals: 2 },
    { currency: "JPY", decimals: 0 },
    { currency: "BTC", decimals: 8 },
  ];
  const statuses = ["pending", "failed", "expired", "cancelled"] as const;
  depositIds = [];
  for (let i = 0; i < 31; i++) {
    const c = currencies[i % 3] as { currency: string; decimals: number };
    const amount = [1_000, 25_000, 1_000, 999_999, 70_000_000][i % 5] as number;
    const d = await insertDeposit(t.ctx, fa, {
      created_at: T0 + Math.floor(i / 3) * 60_000,
      currency: c.currency,
      decimals: c.decimals,
      amount_minor: amount,
      fee_minor: 0,
      credit_minor: amount,
      client_id: clients[i % clients.length] as string,
      method_id: i % 4 === 0 ? otherMethodId : fa.methodId,
      status: statuses[i % 4],
    });
    depositIds.push(d.id);
  }
  await insertDeposit(t.ctx, fb, { created_at: T0 + 10 * 60 * 60_000, amount_minor: 99_999_999 });
});
afterAll(async () => {
  await t?.close();
});

/** Every page of a list, in order. */
async function allPages<I>(s: Session, url: string, limit: number): Promise<{ pages: I[][]; total: number }> {
  const pages: I[][] = [];
  let total = 0;
  for (let offset = 0; offset === 0 || offset < total; offset += limit) {
    const sep = url.includes("?") ? "&" : "?";
    const res = await s.get(`${url}${sep}limit=${limit}&offset=${offset}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: I[]; total: number };
    total = body.total;
    pages.push(body.items);
  }
  return { pages, total };
}

/** The decimal value of an amount, in 10^-8 units, as a bigint (exact). */
const value8 = (amount: string): bigint => {
  const [whole = "0", frac = ""] = amount.split(".");
  return BigInt(whole) * 10n ** 8n + BigInt(frac.padEnd(8, "0") || "0");
};

const cmp = (x: unknown, y: unknown): number => (x === y ? 0 : (x as never) < (y as never) ? -1 : 1);

/** The order the server promises: the column's value, then the id, both in the sort's direction. */
function referenceOrder(
  items: Deposit[],
  column: (typeof DEPOSIT_SORT_COLUMNS)[number],
  dir: "asc" | "desc",
) {
  const key = (d: Deposit): unknown => {
    switch (column) {
      case "created_at":
        return d.createdAt;
      case "order_no":
        return d.orderNo;
      case "client_name":
        return (d.clientName ?? "").toLowerCase();
      case "method_name":
        return (d.methodName ?? "").toLowerCase();
      case "amount":
        return value8(d.amount);
      case "status":
        return d.status;
    }
  };
  const f = dir === "asc" ? 1 : -1;
  return [...items].sort((x, y) => f * (cmp(key(x), key(y)) || cmp(x.id, y.id))).map((d) => d.id);
}

describe("sorting over the whole list", () => {
  it("orders deposits by every sortable column, both ways, consistently across pages", async () => {
    const { pages: all } = await allPages<Deposit>(a.viewer, "/api/admin/deposits", 100);
    const items = all.flat();
    expect(items).toHaveLength(31);
    for (const column of DEPOSIT_SORT_COLUMNS) {
      for (const dir of ["asc", "desc"] as const) {
        const { pages, total } = await allPages<Deposit>(
          a.viewer,
          `/api/admin/deposits?sort=${column}:${dir}`,
          7,
        );
        expect(total).toBe(31);
        const ids = pages.flat().map((d) => d.id);
        expect(ids, `${column}:${dir}`).toEqual(referenceOrder(items, column, dir));
      }
    }
  });

  it("puts the global maximum first on page 1 of a descending sort", async () => {
    const first = (await a.viewer.get("/api/admin/deposits?sort=amount:desc&limit=5")).json().items[0];
    // The same 70 000 000 minor units are 70 000 000 JPY, 700 000.00 USD and 0.7 BTC: the value counts.
    const values = (await allPages<Deposit>(a.viewer, "/api/admin/deposits", 100)).pages
      .flat()
      .map((d) => value8(d.amount));
    const [max] = [...values].sort((x, y) => cmp(y, x)); // bigints: no Math.max
    expect(value8(first.amount)).toBe(max);
    expect(first.currency).toBe("JPY");
    const oldestLast = (await a.viewer.get("/api/admin/deposits?sort=created_at:asc&limit=1")).json()
      .items[0];
    expect(oldestLast.createdAt).toBe(T0);
  });

  it("keeps the filters while sorting", async () => {
    const { pages } = await allPages<Deposit>(
      a.viewer,
      "/api/admin/deposits?status=failed&sort=amount:asc",
      3,
    );
    const items = pages.flat();
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((d) => d.status === "failed")).toBe(true);
    expect(items.map((d) => d.id)).toEqual(referenceOrder(items, "amount", "asc"));
  });

  it("refuses a sort that is not on the list's whitelist with a 400 naming the allowed values", async () => {
    for (const bad of [
      "fee:desc",
      "amount:up",
      "amount",
      "",
      "created_at:desc,id",
      "client_name:DESC",
      "d.id:asc",
    ]) {
      const res = await a.viewer.get(`/api/admin/deposits?sort=${encodeURIComponent(bad)}`);
      expect(res.statusCode, bad).toBe(400);
      const err = res.json().error;
      expect(err.code).toBe("validation_failed");
      expect(err.issues[0].path).toBe("querystring.sort");
      expect(err.issues[0].message).toContain("created_at:desc");
    }
    for (const url of [
      "/api/admin/clients?sort=password_hash:asc",
      "/api/admin/audit?sort=before:asc",
      `/api/admin/integrations/${fa.integrationId}/callbacks?sort=raw_body:asc`,
      "/api/admin/deposits/export.csv?sort=fee:asc",
    ])
      expect((await a.owner.get(url)).statusCode, url).toBe(400);
  });

  it("sorts the client list by name case-insensitively, across pages, in this tenant only", async () => {
    const { pages, total } = await allPages<{ id: string; name: string }>(
      a.viewer,
      "/api/admin/clients?sort=name:asc",
      2,
    );
    expect(total).toBe(4);
    const names = pages.flat().map((c) => c.name);
    expect(names).toEqual([...clientNames.values()].sort((x, y) => cmp(x.toLowerCase(), y.toLowerCase())));
    const desc = (await a.viewer.get("/api/admin/clients?sort=name:desc&limit=1")).json().items[0];
    expect(desc.name).toBe(names.at(-1));
  });

  it("sorts the callback log and the audit log over every page", async () => {
    const verdicts = ["accepted", "duplicate", "rejected", "review"] as const;
    for (let i = 0; i < 9; i++)
      await insertCallbackLog(t.ctx.db, {
        tenant_id: a.tenantId,
        integration_id: fa.integrationId,
        deposit_id: null,
        merchant_id: fa.merchantId,
        order_no: `order-${i}`,
        content_type: "application/json",
        raw_body: "{}",
        verdict: verdicts[(i * 3) % 4] as (typeof verdicts)[number],
        error_type: null,
        http_status: 200 + i,
        remote_addr: "192.0.2.1",
        created_at: T0 + (i % 3),
      });
    const log = await allPages<{ verdict: string; httpStatus: number }>(
      a.viewer,
      `/api/admin/integrations/${fa.integrationId}/callbacks?sort=verdict:desc`,
      2,
    );
    const got = log.pages.flat().map((r) => r.verdict);
    expect(got).toEqual([...got].sort().reverse());
    expect(got[0]).toBe("review");
    const byStatus = (
      await a.viewer.get(
        `/api/admin/integrations/${fa.integrationId}/callbacks?sort=http_status:desc&limit=1`,
      )
    ).json();
    expect(byStatus.items[0].httpStatus).toBe(208);

    for (const action of ["zeta.z", "alpha.a", "mid.m", "alpha.b"])
      await recordAudit(
        t.ctx.db,
        {
          tenantId: a.tenantId,
          actor: { type: "system", id: null },
          action,
          targetType: "thing",
          targetId: action,
        },
        T0,
      );
    const audit = await allPages<{ action: string }>(
      a.owner,
      "/api/admin/audit?sort=action:asc&targetType=thing",
      3,
    );
    expect(audit.pages.flat().map((r) => r.action)).toEqual(["alpha.a", "alpha.b", "mid.m", "zeta.z"]);
  });
});

describe("keyset batches", () => {
  it("read the same rows in the same order as the list, for any sort and batch size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...DEPOSIT_SORT_COLUMNS),
        fc.constantFrom("asc" as const, "desc" as const),
        fc.integer({ min: 1, max: 12 }),
        async (column, dir, batchSize) => {
          const { pages } = await allPages<Deposit>(
            a.viewer,
            `/api/admin/deposits?sort=${column}:${dir}`,
            100,
          );
          const batches: string[][] = [];
          for await (const batch of adminDepositBatches(t.ctx, a.tenantId, {}, { column, dir }, batchSize))
            batches.push(batch.map((d) => d.id));
          expect(batches.flat()).toEqual(pages.flat().map((d) => d.id));
          expect(batches.every((x) => x.length <= batchSize)).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });
});

const csvOf = (body: string): Record<string, string>[] => parse(body, { columns: true });

describe("CSV export", () => {
  it("exports the filtered deposits in the list's order, as an attachment, amounts as decimal text", async () => {
    const res = await a.viewer.get("/api/admin/deposits/export.csv?sort=amount:desc&status=pending");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="deposits-\d{8}-\d{6}\.csv"$/);
    expect(res.body.startsWith("created_at,order_no,id,status,")).toBe(true);
    expect(res.body).toContain("\r\n");
    const rows = csvOf(res.body);
    const list = (
      await allPages<Deposit>(a.viewer, "/api/admin/deposits?sort=amount:desc&status=pending", 100)
    ).pages.flat();
    expect(rows.map((r) => r.id)).toEqual(list.map((d) => d.id));
    for (const [i, r] of rows.entries()) {
      const d = list[i] as Deposit;
      expect(r.amount).toBe(d.amount);
      expect(r.amount).toMatch(/^\d+(\.\d+)?$/);
      expect(r.created_at).toBe(new Date(d.createdAt).toISOString());
      expect(r.status).toBe("pending");
    }
    // Never the payment URL with its access key, nor the client's bank fields.
    expect(res.body).not.toContain("psp.example.com");
    expect(Object.keys(rows[0] ?? {})).not.toContain("payment_url");
  });

  it("quotes names with commas and quotes and defuses a formula", async () => {
    const res = await a.viewer.get("/api/admin/deposits/export.csv?sort=client_name:asc");
    const names = new Set(csvOf(res.body).map((r) => r.client_name));
    expect(names).toContain('carol, "the" client');
    expect(names).toContain('\'=HYPERLINK("http://x","y")');
    expect(res.body).toContain('"carol, ""the"" client"');
  });

  it("shows each tenant only its own rows, and answers another tenant's ids as not found", async () => {
    const mine = csvOf((await b.viewer.get("/api/admin/deposits/export.csv")).body);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.amount).toBe("999999.99");
    const ids = new Set(depositIds);
    expect(mine.some((r) => ids.has(r.id as string))).toBe(false);
    expect(
      (await b.viewer.get(`/api/admin/integrations/${fa.integrationId}/callbacks/export.csv`)).statusCode,
    ).toBe(404);
    expect((await b.viewer.get(`/api/admin/clients/${fa.clientId}/ledger/export.csv`)).statusCode).toBe(404);
  });

  it("needs a back-office session or API key", async () => {
    for (const url of [
      "/api/admin/deposits/export.csv",
      `/api/admin/integrations/${fa.integrationId}/callbacks/export.csv`,
      `/api/admin/clients/${fa.clientId}/ledger/export.csv`,
    ]) {
      const res = await t.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(401);
      expect(res.body).not.toContain("order_no");
    }
  });

  it("exports the callback log with its filter, raw bodies defused, never the token", async () => {
    await insertCallbackLog(t.ctx.db, {
      tenant_id: a.tenantId,
      integration_id: fa.integrationId,
      deposit_id: null,
      merchant_id: fa.merchantId,
      order_no: "=1+1",
      content_type: "application/json",
      raw_body: '{"a":1,\n"b":"x"}',
      verdict: "rejected",
      error_type: "psp_token_invalid",
      http_status: 400,
      remote_addr: "192.0.2.9",
      created_at: T0 + 5_000,
    });
    const res = await a.viewer.get(
      `/api/admin/integrations/${fa.integrationId}/callbacks/export.csv?verdict=rejected&sort=created_at:desc`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-disposition"]).toMatch(/filename="callbacks-/);
    const rows = csvOf(res.body);
    expect(rows.every((r) => r.verdict === "rejected")).toBe(true);
    const row = rows.find((r) => r.error_type === "psp_token_invalid");
    expect(row?.order_no).toBe("'=1+1");
    expect(row?.raw_body).toBe('{"a":1,\n"b":"x"}');
    expect(row?.created_at).toBe(new Date(T0 + 5_000).toISOString());
    expect(row?.source).toBe("callback");
    expect(res.body).not.toContain(fa.token);
  });

  it("exports a client's ledger newest first, debits as negative decimal text", async () => {
    const client = (await insertClient(t.ctx, a.tenantId)).clientId;
    for (const [i, minor] of [12_345n, -500n, 7n].entries())
      await t.ctx.db.transaction().execute((trx) =>
        postLedgerEntry(trx, {
          tenantId: a.tenantId,
          clientId: client,
          currency: "USD",
          amountMinor: minor,
          kind: "adjustment",
          depositId: null,
          memo: i === 1 ? "-correction" : `entry ${i}`,
          now: T0 + i,
        }),
      );
    const res = await a.finance.get(`/api/admin/clients/${client}/ledger/export.csv`);
    expect(res.statusCode).toBe(200);
    const rows = csvOf(res.body);
    expect(rows.map((r) => r.amount)).toEqual(["0.07", "-5.00", "123.45"]);
    expect(rows.map((r) => r.memo)).toEqual(["entry 2", "'-correction", "entry 0"]);
    expect(rows.every((r) => r.currency === "USD" && r.id && r.wallet_id)).toBe(true);
  });
});
