import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../common/ids.js";
import type { DepositsTable } from "../../infra/db/schema.js";
import { depositRowFor } from "../../test/callback-client.js";
import { findMethodWithIntegration } from "../../test/deposit-lookups.js";
import { insertClient, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { findClient, type NewDepositEvent, newEventId } from "./deposit-repo.js";

/**
 * The hand-written statements of deposit creation (create-deposit-repo.ts) on the database of
 * this vitest project: the same rows as the query-builder versions, tenant scoping, and each
 * write step all or nothing (a transaction on SQLite, one statement on PostgreSQL).
 */

let t: TestApp;
let a: PaymentFixture;
let b: PaymentFixture;

async function tenantWithSetup(slug: string): Promise<PaymentFixture> {
  const { tenantId } = await createTenant(t.ctx, {
    slug,
    name: slug,
    owner: { email: `owner@${slug}.test`, name: "Owner", password: TEST_PASSWORD },
  });
  return insertPaymentSetup(t.ctx, tenantId, { appUrl: "https://psp.example.com" });
}

beforeAll(async () => {
  t = await createTestApp();
  a = await tenantWithSetup("repo-a");
  b = await tenantWithSetup("repo-b");
});
afterAll(async () => t?.close());

/** A new order as creation writes it (before API-1 answers): no payment URL yet. */
function newRow(fx: PaymentFixture, key: string | null = null): DepositsTable {
  const now = Date.now();
  return depositRowFor(fx, now, {
    fields: '{"bank":"x"}',
    device: "pc",
    language: "en-us",
    idempotency_key: key,
    request_hash: "h".repeat(64),
    payment_url: null,
    expires_at: now + 60_000,
  });
}

const createdEvent = (row: DepositsTable, id?: string): NewDepositEvent => ({
  tenantId: row.tenant_id,
  depositId: row.id,
  now: row.created_at,
  ...(id ? { id } : {}),
  event: {
    kind: "created",
    data: { by: "client", actorId: row.client_id, amount: "100.00", currency: "USD", fee: "2.80" },
  },
});

const api1Event = (row: DepositsTable, id?: string): NewDepositEvent => ({
  tenantId: row.tenant_id,
  depositId: row.id,
  now: row.created_at + 1,
  ...(id ? { id } : {}),
  event: {
    kind: "api1_call",
    data: {
      url: "https://psp.example.com/pay/url",
      request: { order_no: row.order_no },
      httpStatus: 200,
      response: "{}",
      latencyMs: 1,
      outcome: "ok",
      paymentUrl: "https://pay.example.com/p/1",
    },
  },
});

async function storedRow(id: string) {
  return t.ctx.db.selectFrom("deposits").selectAll().where("id", "=", id).executeTakeFirst();
}
async function storedEvents(depositId: string) {
  const rows = await t.ctx.db
    .selectFrom("deposit_events")
    .selectAll()
    .where("deposit_id", "=", depositId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}

describe("depositWriter.findContext", () => {
  it("reads the client, the method and its integration exactly as the query-builder lookups do", async () => {
    const found = await t.ctx.depositWriter.findContext({
      tenantId: a.tenantId,
      clientId: a.clientId,
      methodId: a.methodId,
    });
    const client = await findClient(t.ctx.db, a.tenantId, a.clientId);
    const mi = await findMethodWithIntegration(t.ctx.db, a.tenantId, a.methodId);
    expect(mi).toBeDefined();
    expect(found?.methodWithIntegration).toEqual(mi);
    const { tenant_id: _t, password_hash: _p, created_at: _c, ...clientFields } = client!;
    expect(found?.client).toEqual(clientFields);
    expect(Object.keys(found?.client ?? {})).not.toContain("password_hash");
  });

  it("finds no client of another tenant, and no method or integration of another tenant", async () => {
    const ctx = (tenantId: string, clientId: string, methodId: string) =>
      t.ctx.depositWriter.findContext({ tenantId, clientId, methodId });
    expect(await ctx(a.tenantId, b.clientId, a.methodId)).toBeUndefined();
    expect(await ctx(a.tenantId, "no-such-client", a.methodId)).toBeUndefined();
    const foreignMethod = await ctx(a.tenantId, a.clientId, b.methodId);
    expect(foreignMethod?.client.id).toBe(a.clientId);
    expect(foreignMethod?.methodWithIntegration).toBeUndefined();
    expect((await ctx(a.tenantId, a.clientId, "no-such-method"))?.methodWithIntegration).toBeUndefined();
  });

  it("finds no method whose integration belongs to another tenant", async () => {
    // A corrupted row: tenant A's method pointing at tenant B's integration.
    const methodRow = await t.ctx.db
      .selectFrom("deposit_methods")
      .selectAll()
      .where("id", "=", a.methodId)
      .executeTakeFirstOrThrow();
    const id = newId();
    await t.ctx.db
      .insertInto("deposit_methods")
      .values({ ...methodRow, id, integration_id: b.integrationId })
      .execute();
    const found = await t.ctx.depositWriter.findContext({
      tenantId: a.tenantId,
      clientId: a.clientId,
      methodId: id,
    });
    expect(found?.methodWithIntegration).toBeUndefined();
    expect(await findMethodWithIntegration(t.ctx.db, a.tenantId, id)).toBeUndefined();
  });
});

describe("depositWriter.findContext for requests that arrive together (one query on PostgreSQL)", () => {
  it("answers each lookup with its own client, method and integration, or nothing", async () => {
    const keys = [
      { tenantId: a.tenantId, clientId: a.clientId, methodId: a.methodId },
      { tenantId: b.tenantId, clientId: b.clientId, methodId: b.methodId },
      { tenantId: a.tenantId, clientId: b.clientId, methodId: a.methodId }, // another tenant's client
      { tenantId: a.tenantId, clientId: a.clientId, methodId: b.methodId }, // another tenant's method
      { tenantId: a.tenantId, clientId: a.clientId, methodId: a.methodId }, // the first again
    ];
    const found = await Promise.all(keys.map((k) => t.ctx.depositWriter.findContext(k)));
    const one = async (k: (typeof keys)[number]) => ({
      client: await findClient(t.ctx.db, k.tenantId, k.clientId),
      mi: await findMethodWithIntegration(t.ctx.db, k.tenantId, k.methodId),
    });
    for (const [i, k] of keys.entries()) {
      const want = await one(k);
      if (!want.client) {
        expect(found[i]).toBeUndefined();
        continue;
      }
      expect(found[i]?.client.id).toBe(want.client.id);
      expect(found[i]?.methodWithIntegration).toEqual(want.mi);
    }
    expect(found.map((f) => f?.methodWithIntegration?.method.id ?? null)).toEqual([
      a.methodId,
      b.methodId,
      null,
      null,
      a.methodId,
    ]);
  });
});

describe("depositWriter.insert", () => {
  it("writes the order and its created event", async () => {
    const row = newRow(a);
    expect(await t.ctx.depositWriter.insert(row, createdEvent(row))).toBe(true);
    expect(await storedRow(row.id)).toEqual(row);
    const events = await storedEvents(row.id);
    expect(events.map((e) => [e.kind, e.tenant_id, e.created_at])).toEqual([
      ["created", a.tenantId, row.created_at],
    ]);
    expect(events[0]?.data).toEqual(createdEvent(row).event.data);
  });

  it("ignores a second order with the same idempotency key, and writes no event for it", async () => {
    const first = newRow(a, "repo-key");
    const second = newRow(a, "repo-key");
    expect(await t.ctx.depositWriter.insert(first, createdEvent(first))).toBe(true);
    expect(await t.ctx.depositWriter.insert(second, createdEvent(second))).toBe(false);
    expect(await storedRow(second.id)).toBeUndefined();
    expect(await storedEvents(second.id)).toEqual([]);
    // Without a key, nothing conflicts.
    const x = newRow(a);
    const y = newRow(a);
    expect(await t.ctx.depositWriter.insert(x, createdEvent(x))).toBe(true);
    expect(await t.ctx.depositWriter.insert(y, createdEvent(y))).toBe(true);
  });

  it("is all or nothing: when the event cannot be written, the order is not either", async () => {
    const taken = newRow(a);
    const takenEventId = newEventId();
    await t.ctx.depositWriter.insert(taken, createdEvent(taken, takenEventId));
    const row = newRow(a);
    await expect(t.ctx.depositWriter.insert(row, createdEvent(row, takenEventId))).rejects.toThrow();
    expect(await storedRow(row.id)).toBeUndefined();
  });
});

describe("depositWriter.setPaymentUrl", () => {
  it("stores the URL of an open order with its api1_call event and answers the row", async () => {
    const row = newRow(a);
    await t.ctx.depositWriter.insert(row, createdEvent(row));
    const now = row.created_at + 1;
    const url = "https://pay.example.com/p/1";
    const answer = await t.ctx.depositWriter.setPaymentUrl(
      { tenantId: a.tenantId, id: row.id, url, now },
      api1Event(row),
    );
    expect(answer).toEqual({
      id: row.id,
      order_no: row.order_no,
      status: "pending",
      payment_url: url,
      failure_reason: null,
      failure_message: null,
    });
    expect(await storedRow(row.id)).toEqual({ ...row, payment_url: url, updated_at: now });
    expect((await storedEvents(row.id)).map((e) => e.kind)).toEqual(["created", "api1_call"]);
  });

  it("never touches an order of another tenant, a final one, or one that already has a URL; the event is kept", async () => {
    const row = newRow(a);
    await t.ctx.depositWriter.insert(row, createdEvent(row));
    const set = (tenantId: string, url: string) =>
      t.ctx.depositWriter.setPaymentUrl(
        { tenantId, id: row.id, url, now: row.created_at + 1 },
        api1Event(row),
      );
    expect(await set(b.tenantId, "https://pay.example.com/other-tenant")).toBeUndefined();
    expect((await storedRow(row.id))?.payment_url).toBeNull();
    expect(await set(a.tenantId, "https://pay.example.com/first")).toBeDefined();
    expect(await set(a.tenantId, "https://pay.example.com/second")).toBeUndefined();
    expect((await storedRow(row.id))?.payment_url).toBe("https://pay.example.com/first");
    await t.ctx.db.updateTable("deposits").set({ status: "cancelled" }).where("id", "=", row.id).execute();
    const other = newRow(a);
    await t.ctx.depositWriter.insert({ ...other, status: "failed" }, createdEvent(other));
    expect(
      await t.ctx.depositWriter.setPaymentUrl(
        { tenantId: a.tenantId, id: other.id, url: "https://pay.example.com/x", now: other.created_at + 1 },
        api1Event(other),
      ),
    ).toBeUndefined();
    expect((await storedRow(other.id))?.payment_url).toBeNull();
    expect((await storedEvents(other.id)).map((e) => e.kind)).toEqual(["created", "api1_call"]);
  });

  it("is all or nothing: when the event cannot be written, the URL is not stored", async () => {
    const row = newRow(a);
    const takenEventId = newEventId();
    await t.ctx.depositWriter.insert(row, createdEvent(row, takenEventId));
    await expect(
      t.ctx.depositWriter.setPaymentUrl(
        { tenantId: a.tenantId, id: row.id, url: "https://pay.example.com/p/2", now: row.created_at + 1 },
        api1Event(row, takenEventId),
      ),
    ).rejects.toThrow();
    expect((await storedRow(row.id))?.payment_url).toBeNull();
  });
});

describe("group commit: steps submitted together are written together, each with its own answer", () => {
  it("inserts a batch of orders, one of two with the same key, with events for the inserted ones only", async () => {
    const rows = [
      newRow(a),
      newRow(a, "batch-key"),
      newRow(a),
      newRow(a, "batch-key"),
      newRow(b, "batch-key"),
    ];
    // Submitted in the same tick: one batch.
    const answers = await Promise.all(rows.map((r) => t.ctx.depositWriter.insert(r, createdEvent(r))));
    expect(answers).toEqual([true, true, true, false, true]);
    for (const [i, r] of rows.entries()) {
      expect(await storedRow(r.id)).toEqual(answers[i] ? r : undefined);
      expect((await storedEvents(r.id)).map((e) => e.kind)).toEqual(answers[i] ? ["created"] : []);
    }
  });

  it("one failing item fails alone: the others of its batch are written", async () => {
    const taken = newRow(a);
    const takenEventId = newEventId();
    await t.ctx.depositWriter.insert(taken, createdEvent(taken, takenEventId));
    const good1 = newRow(a);
    const bad = newRow(a);
    const good2 = newRow(b);
    const results = await Promise.allSettled([
      t.ctx.depositWriter.insert(good1, createdEvent(good1)),
      t.ctx.depositWriter.insert(bad, createdEvent(bad, takenEventId)),
      t.ctx.depositWriter.insert(good2, createdEvent(good2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await storedRow(good1.id)).toEqual(good1);
    expect(await storedRow(good2.id)).toEqual(good2);
    expect(await storedRow(bad.id)).toBeUndefined();
  });

  it("stores a batch of payment URLs, each answered with its own order (or nothing when it did not apply)", async () => {
    const rows = [newRow(a), newRow(b), newRow(a), newRow(a)];
    for (const r of rows) await t.ctx.depositWriter.insert(r, createdEvent(r));
    await t.ctx.db
      .updateTable("deposits")
      .set({ status: "cancelled" })
      .where("id", "=", rows[2]!.id)
      .execute();
    const answers = await Promise.all(
      rows.map((r, i) =>
        t.ctx.depositWriter.setPaymentUrl(
          // The last one names another tenant: never applied.
          {
            tenantId: i === 3 ? b.tenantId : r.tenant_id,
            id: r.id,
            url: `https://pay.example.com/p/${i}`,
            now: r.created_at + 1,
          },
          api1Event(r),
        ),
      ),
    );
    expect(answers.map((x) => x?.payment_url ?? null)).toEqual([
      "https://pay.example.com/p/0",
      "https://pay.example.com/p/1",
      null,
      null,
    ]);
    expect(answers[0]).toMatchObject({ id: rows[0]!.id, order_no: rows[0]!.order_no, status: "pending" });
    expect(answers[1]).toMatchObject({ id: rows[1]!.id, order_no: rows[1]!.order_no, status: "pending" });
    for (const [i, r] of rows.entries()) {
      expect((await storedRow(r.id))?.payment_url).toBe(i < 2 ? `https://pay.example.com/p/${i}` : null);
      expect((await storedEvents(r.id)).map((e) => e.kind)).toEqual(["created", "api1_call"]);
    }
  });

  it("one failing URL step fails alone", async () => {
    const rows = [newRow(a), newRow(a), newRow(a)];
    const takenEventId = newEventId();
    await t.ctx.depositWriter.insert(rows[0]!, createdEvent(rows[0]!, takenEventId));
    for (const r of rows.slice(1)) await t.ctx.depositWriter.insert(r, createdEvent(r));
    const results = await Promise.allSettled(
      rows.map((r, i) =>
        t.ctx.depositWriter.setPaymentUrl(
          { tenantId: r.tenant_id, id: r.id, url: `https://pay.example.com/q/${i}`, now: r.created_at + 1 },
          api1Event(r, i === 1 ? takenEventId : undefined),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await storedRow(rows[0]!.id))?.payment_url).toBe("https://pay.example.com/q/0");
    expect((await storedRow(rows[1]!.id))?.payment_url).toBeNull();
    expect((await storedRow(rows[2]!.id))?.payment_url).toBe("https://pay.example.com/q/2");
  });
});

describe("tenant scoping of a second client", () => {
  it("reads a second client of the same tenant with its own fields", async () => {
    const c = await insertClient(t.ctx, a.tenantId);
    const found = await t.ctx.depositWriter.findContext({
      tenantId: a.tenantId,
      clientId: c.clientId,
      methodId: a.methodId,
    });
    expect(found?.client.id).toBe(c.clientId);
    expect(found?.methodWithIntegration?.method.id).toBe(a.methodId);
  });
});
