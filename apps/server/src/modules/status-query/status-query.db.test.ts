import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../app-context.js";
import { fixedClock } from "../../common/clock.js";
import { type Api1Stub, type StubAnswer, type StubRequest, startApi1Stub } from "../../test/api1-stub.js";
import {
  callbackFields,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendSignedCallback,
  type TestDeposit,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { listCallbackLogs } from "../callbacks/callback-log-repo.js";
import { expireDeposits } from "../deposits/expire-deposits.js";
import { NO_QUOTE } from "../fx-quotes/locked-quote.js";
import { createTenant } from "../tenants/create-tenant.js";
import { queryStatusNow } from "./query-status.js";
import { claimDueQueries } from "./status-query-repo.js";
import { CLAIM_LEASE_MS, runDueStatusQueries } from "./status-query-worker.js";

// API-3 end to end against a real backend on loopback (the API-1 stub, answering /pay/status as
// each test says), with a fixed clock driving the schedule.

const T0 = 1_800_000_000_000;
const clock = fixedClock(T0);
let t: TestApp;
let stub: Api1Stub;
let fx: PaymentFixture;
let other: PaymentFixture;

beforeAll(async () => {
  stub = await startApi1Stub();
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  const { tenantId } = await createTenant(t.ctx, {
    slug: "sq",
    name: "SQ",
    owner: { email: "owner@sq.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId, { appUrl: stub.url, api1TimeoutMs: 1000 });
  stub.token = fx.token;
  await t.ctx.db
    .updateTable("psp_integrations")
    .set({ status_query_enabled: 1, status_query_schedule: "[10,20]", status_query_timeout_ms: 1000 })
    .where("id", "=", fx.integrationId)
    .execute();
  const second = await createTenant(t.ctx, {
    slug: "sq2",
    name: "SQ2",
    owner: { email: "owner@sq2.test", name: "Owner", password: "correct horse battery" },
  });
  other = await insertPaymentSetup(t.ctx, second.tenantId, { appUrl: stub.url });
});
afterAll(async () => {
  await t?.close();
  await stub?.close();
});
beforeEach(async () => {
  // Each test sees only its own orders' queries.
  await t.ctx.db.updateTable("deposits").set({ status_query_due_at: null }).execute();
  stub.requests.length = 0;
  stub.respond = () => ({ status: 500, body: "" });
});
paymentInvariantsAfterEach(() => t?.ctx);

const deps = () => ({ ...t.ctx, random: () => 0.5 });

/** A pending order with its payment URL, its first query due in 10 s. */
async function scheduled(f: PaymentFixture = fx): Promise<TestDeposit> {
  return insertDeposit(t.ctx, f, {
    payment_url: "https://pay.example.com/p",
    status_query_due_at: clock.now() + 10_000,
    status_query_step: 0,
    ...NO_QUOTE,
  });
}

const answer = (body: unknown, status = 200): StubAnswer => ({
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json" },
});
/** The backend's answer for `dep`: `data` an API-2 body signed with `token`. */
const found = (
  dep: TestDeposit,
  overrides = {},
  token = fx.token,
  f: Pick<PaymentFixture, "merchantId"> = fx,
) => `{"result":true,"msg":"","data":${callbackJson(callbackFields(f, dep, overrides), token)}}`;
const orderOf = (r: StubRequest) => String(r.json?.order_no);

async function queryEvents(depositId: string) {
  const rows = await t.ctx.db
    .selectFrom("deposit_events")
    .select(["kind", "data"])
    .where("deposit_id", "=", depositId)
    .where("kind", "=", "status_query")
    .orderBy("id")
    .execute();
  return rows.map((r) => JSON.parse(r.data));
}
const schedule = async (id: string) => {
  const r = await depositRow(t.ctx, id);
  return {
    dueAt: r.status_query_due_at === null ? null : Number(r.status_query_due_at),
    step: Number(r.status_query_step),
  };
};
async function reviewItems(depositId: string) {
  return t.ctx.db.selectFrom("review_items").selectAll().where("deposit_id", "=", depositId).execute();
}

describe("the schedule", () => {
  it("credits a lost callback exactly once when the query finds it paid, then ends the schedule", async () => {
    const dep = await scheduled();
    stub.respond = (r) => answer(orderOf(r) === dep.orderNo ? found(dep) : "{}");
    expect(await runDueStatusQueries(deps(), 100)).toBe(0); // not due yet
    clock.advance(10_001);
    expect(await runDueStatusQueries(deps(), 100)).toBe(1);
    const req = stub.requests[0] as StubRequest;
    expect(req.path).toBe("/pay/status");
    expect(req.tokenOk && req.signOk).toBe(true);
    expect(Object.keys(req.json ?? {}).sort()).toEqual(["merchant_id", "order_no", "sign", "time"]);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
    expect(await schedule(dep.id)).toMatchObject({ dueAt: null });
    const [ev] = await queryEvents(dep.id);
    expect(ev).toMatchObject({
      trigger: "schedule",
      step: 0,
      outcome: "found",
      reason: null,
      verdict: "accepted",
    });
    const log = await t.ctx.db
      .selectFrom("callback_logs")
      .selectAll()
      .where("id", "=", ev.callbackLogId)
      .executeTakeFirstOrThrow();
    expect(log).toMatchObject({ source: "status_query", verdict: "accepted", http_status: 200 });
    const listed = await listCallbackLogs(t.ctx.db, fx.tenantId, fx.integrationId, {
      source: "status_query",
      limit: 200,
      offset: 0,
    });
    expect(listed.items.map((i) => i.id)).toContain(log.id);
    expect(listed.items.every((i) => i.source === "status_query")).toBe(true);
    const change = await t.ctx.db
      .selectFrom("deposit_events")
      .select("data")
      .where("deposit_id", "=", dep.id)
      .where("kind", "=", "status_change")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(change.data)).toMatchObject({ to: "succeeded", cause: "status_query" });
    clock.advance(100_000);
    expect(await runDueStatusQueries(deps(), 100)).toBe(0);
  });

  it("an order the backend does not know ends in needs assistance, never failed or credited", async () => {
    const dep = await scheduled();
    stub.respond = () => answer({ result: false, msg: "no such order", data: { code: "order_not_found" } });
    clock.advance(10_001);
    await runDueStatusQueries(deps(), 100);
    const s = await schedule(dep.id);
    expect(s.step).toBe(1);
    expect(s.dueAt).toBe(clock.now() + 20_000); // the second delay, no jitter at random 0.5
    expect(await reviewItems(dep.id)).toHaveLength(0);
    clock.advance(20_001);
    await runDueStatusQueries(deps(), 100);
    expect(await schedule(dep.id)).toMatchObject({ dueAt: null });
    expect((await depositRow(t.ctx, dep.id)).status).toBe("pending");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
    const [item, ...more] = await reviewItems(dep.id);
    expect(more).toHaveLength(0);
    expect(item).toMatchObject({ reason: "needs_assistance", status: "open" });
    expect(JSON.parse(item?.data ?? "{}")).toEqual({
      why: "not_found",
      queries: 2,
      lastOutcome: "order_not_found",
      depositStatus: "pending",
    });
    const events = await queryEvents(dep.id);
    expect(events.map((e) => [e.outcome, e.verdict])).toEqual([
      ["not_found", "rejected"],
      ["not_found", "rejected"],
    ]);
    // A callback settles it later: the item is resolved as settled in the same commit.
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    const [after] = await reviewItems(dep.id);
    expect(after).toMatchObject({ status: "resolved", resolution: "settled", resolved_by: null });
  });

  it("still open (processing) at the last step: needs assistance, why still_open", async () => {
    const dep = await scheduled();
    stub.respond = () => answer(found(dep, { status: 2 }));
    clock.advance(10_001);
    await runDueStatusQueries(deps(), 100);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("processing");
    clock.advance(20_001);
    await runDueStatusQueries(deps(), 100);
    const [item] = await reviewItems(dep.id);
    expect(JSON.parse(item?.data ?? "{}")).toMatchObject({ why: "still_open", lastOutcome: "processing" });
  });

  it("every failure mode of the answer changes nothing and moves the schedule on", async () => {
    const modes: Record<string, (dep: TestDeposit) => StubAnswer> = {
      http500: () => answer("oops", 500),
      garbage: () => answer("not json at all"),
      noResult: () => answer({ msg: "?" }),
      badSign: (dep) => answer(found(dep, {}, "wrong-token-wrong-token-wrong-token")),
      otherMerchant: (dep) => answer(found(dep, {}, other.token, other)),
      otherOrder: (dep) => answer(found({ ...dep, orderNo: "someone-else" })),
      slow: () => ({ hang: true }),
    };
    const deps0 = await Promise.all(Object.keys(modes).map(() => scheduled()));
    const byOrder = new Map(Object.values(modes).map((m, i) => [deps0[i]?.orderNo, [m, deps0[i]] as const]));
    stub.respond = (r) => {
      const hit = byOrder.get(orderOf(r));
      return hit ? hit[0](hit[1] as TestDeposit) : answer("{}");
    };
    clock.advance(10_001);
    await runDueStatusQueries(deps(), 100);
    for (const dep of deps0) {
      expect((await depositRow(t.ctx, dep.id)).status).toBe("pending");
      expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(0);
      expect(await schedule(dep.id)).toMatchObject({ step: 1 });
      const [ev] = await queryEvents(dep.id);
      expect(ev.outcome).toBe("failed");
    }
    const reasons = await Promise.all(deps0.map(async (d) => (await queryEvents(d.id))[0].reason));
    expect(reasons).toEqual([
      "http_status_500",
      "invalid_answer: the answer is not JSON",
      "invalid_answer: result is neither true nor false",
      "invalid_answer: psp_token_invalid",
      "invalid_answer: psp_setting_not_found",
      "invalid_answer: payment_not_found",
      "timeout",
    ]);
    // The last step fails too: query_failed.
    clock.advance(20_001);
    await runDueStatusQueries(deps(), 100);
    const [item] = await reviewItems(deps0[0]?.id as string);
    expect(JSON.parse(item?.data ?? "{}")).toMatchObject({
      why: "query_failed",
      lastOutcome: "http_status_500",
    });
  });

  it("a claim whose process died is taken again once its lease has passed", async () => {
    const dep = await scheduled();
    stub.respond = () => answer(found(dep));
    clock.advance(10_001);
    expect(await claimDueQueries(t.ctx.db, clock.now(), 100, CLAIM_LEASE_MS)).toHaveLength(1); // and dies
    expect(await runDueStatusQueries(deps(), 100)).toBe(0);
    clock.advance(CLAIM_LEASE_MS);
    expect(await runDueStatusQueries(deps(), 100)).toBe(1);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
    expect(await ledgerEntriesOf(t.ctx, dep.id)).toHaveLength(1);
  });
});

describe("claims", () => {
  it("a claim takes at most its limit, the earliest due first, and moves them to the lease", async () => {
    const orders = [];
    for (let i = 0; i < 12; i++) {
      orders.push(await scheduled());
      clock.advance(1);
    }
    clock.advance(10_001);
    const claims = await claimDueQueries(t.ctx.db, clock.now(), 5, CLAIM_LEASE_MS);
    expect(claims.map((c) => c.target.depositId)).toEqual(orders.slice(0, 5).map((o) => o.id));
    for (const o of orders.slice(0, 5))
      expect((await schedule(o.id)).dueAt).toBe(clock.now() + CLAIM_LEASE_MS);
    for (const o of orders.slice(5)) expect((await schedule(o.id)).dueAt).toBeLessThan(clock.now());
  });
});

describe("races", () => {
  it("the query and the callback of one order at the same moment: one credit, many times over", async () => {
    const orders = await Promise.all(Array.from({ length: 20 }, () => scheduled()));
    const byOrder = new Map(orders.map((d) => [d.orderNo, d]));
    stub.respond = (r) => answer(found(byOrder.get(orderOf(r)) as TestDeposit));
    clock.advance(10_001);
    await Promise.all([
      runDueStatusQueries(deps(), 100),
      ...orders.map((d) => sendSignedCallback(t.app, fx, d)),
    ]);
    for (const d of orders) {
      expect((await depositRow(t.ctx, d.id)).status).toBe("succeeded");
      expect(await ledgerEntriesOf(t.ctx, d.id)).toHaveLength(1);
      expect(await schedule(d.id)).toMatchObject({ dueAt: null });
    }
  });

  // SQLite has one writer process (docs/architecture.md): two processes are a PostgreSQL setup.
  it.skipIf(testDbKind() !== "postgres")(
    "two contexts (two processes) running the worker at once: each order queried and credited once",
    async () => {
      const ctx2: AppContext = createAppContext(t.ctx.config, { logger: t.ctx.logger, clock });
      try {
        const orders = await Promise.all(Array.from({ length: 30 }, () => scheduled()));
        const byOrder = new Map(orders.map((d) => [d.orderNo, d]));
        stub.respond = (r) => answer(found(byOrder.get(orderOf(r)) as TestDeposit));
        clock.advance(10_001);
        const [a, b] = await Promise.all([
          runDueStatusQueries(deps(), 100),
          runDueStatusQueries({ ...ctx2, random: () => 0.5 }, 100),
        ]);
        expect(a + b).toBe(30);
        expect(stub.requests.filter((r) => r.path === "/pay/status")).toHaveLength(30);
        for (const d of orders) expect(await ledgerEntriesOf(t.ctx, d.id)).toHaveLength(1);
      } finally {
        await ctx2.close();
      }
    },
  );
});

describe("the expiry sweep", () => {
  it("queries first: a paid order is credited, not expired; an open one expires and keeps its schedule", async () => {
    const paid = await scheduled();
    const open = await scheduled();
    await t.ctx.db
      .updateTable("deposits")
      .set({ expires_at: clock.now() - 1 })
      .where("id", "in", [paid.id, open.id])
      .execute();
    stub.respond = (r) => answer(orderOf(r) === paid.orderNo ? found(paid) : found(open, { status: 2 }));
    await expireDeposits(t.ctx, { queryFirst: { ...t.ctx, concurrency: 4 } });
    expect((await depositRow(t.ctx, paid.id)).status).toBe("succeeded");
    expect(await ledgerEntriesOf(t.ctx, paid.id)).toHaveLength(1);
    expect((await depositRow(t.ctx, open.id)).status).toBe("expired");
    expect((await schedule(open.id)).dueAt).not.toBeNull();
    expect((await queryEvents(paid.id))[0]).toMatchObject({
      trigger: "expiry",
      step: null,
      outcome: "found",
    });
    // A later success of the expired order: a late_success review item, and the schedule ends.
    stub.respond = () => answer(found(open));
    clock.advance(10_001);
    await runDueStatusQueries(deps(), 100);
    expect((await depositRow(t.ctx, open.id)).status).toBe("expired");
    expect((await reviewItems(open.id)).map((i) => i.reason)).toEqual(["late_success"]);
    expect(await schedule(open.id)).toMatchObject({ dueAt: null });
  });
});

describe("check status now", () => {
  it("queries at once, applies the answer, leaves the schedule; 404 for another tenant, 409 when off", async () => {
    const dep = await scheduled();
    stub.respond = () => answer(found(dep, { status: 2 }));
    const before = await schedule(dep.id);
    const r = await queryStatusNow(t.ctx, { tenantId: fx.tenantId, depositId: dep.id });
    expect(r).toEqual({ outcome: "found", reason: null, verdict: "accepted", depositStatus: "processing" });
    expect(await schedule(dep.id)).toEqual(before);
    expect((await queryEvents(dep.id))[0]).toMatchObject({ trigger: "manual", step: null });
    await expect(
      queryStatusNow(t.ctx, { tenantId: other.tenantId, depositId: dep.id }),
    ).rejects.toMatchObject({
      statusCode: 404,
    });
    const off = await scheduled(other);
    await expect(
      queryStatusNow(t.ctx, { tenantId: other.tenantId, depositId: off.id }),
    ).rejects.toMatchObject({
      statusCode: 409,
    });
  });
});
