import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { newOrderNo } from "../../common/ids.js";
import type { DepositsTable } from "../../infra/db/schema.js";
import {
  type CallbackFields,
  callbackError,
  callbackFields,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendCallback,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import {
  insertClient,
  insertEarlierCredit,
  insertPaymentSetup,
  type PaymentFixture,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";

// API-2 callbacks applied in batches (group commit, handle-callback.ts): callbacks sent at once
// land in one batch, and every one of them must be answered, recorded and applied exactly as if
// it had arrived alone, in arrival order. When a batch fails, each callback is retried alone.
//
// How a test knows what was batched:
// - the clock ticks on every read, so every batch records its log rows with a `created_at` of
//   its own: callbacks logged with one `created_at` were judged in one batch (and their log ids,
//   time-ordered, give the batch's order, i.e. arrival order);
// - the settlement planner is wrapped (passing through) to see which results were applied in
//   one settlement, and its writes to see which batch failed.

const applied = vi.hoisted(() => ({
  calls: [] as { depositIds: string[]; to: string[]; threw: boolean }[],
}));
vi.mock("../settlement/settlement-planner.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../settlement/settlement-planner.js")>();
  return {
    ...actual,
    planSettlement: (...args: Parameters<typeof actual.planSettlement>) => {
      const planner = actual.planSettlement(...args);
      // A batch whose callbacks were all refused before the status applies nothing: not kept.
      let call: (typeof applied.calls)[number] | undefined;
      return {
        ...planner,
        apply: (result: Parameters<typeof planner.apply>[0]) => {
          if (!call) {
            call = { depositIds: [], to: [], threw: false };
            applied.calls.push(call);
          }
          call.depositIds.push(result.depositId);
          call.to.push(result.to);
          return planner.apply(result);
        },
      };
    },
  };
});
// The planned writes fail (and roll the batch back) in runWrites: mark the plan that failed.
vi.mock("../../infra/db/write-batch.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../infra/db/write-batch.js")>();
  return {
    ...actual,
    runWrites: async (...args: Parameters<typeof actual.runWrites>) => {
      try {
        return await actual.runWrites(...args);
      } catch (err) {
        const last = applied.calls.at(-1);
        if (last) last.threw = true;
        throw err;
      }
    },
  };
});

let t: TestApp;
let tenantId: string;
let otherTenantId: string;
/** Tenant A, amount policy exact (the default). */
let fx: PaymentFixture;
/** Tenant A, amount policy review. */
let review: PaymentFixture;
/** Tenant A, amount policy credit_paid. */
let creditPaid: PaymentFixture;
/** Tenant B. */
let other: PaymentFixture;

let ticks = 0;
const START = Date.now();

async function newTenant(slug: string) {
  const created = await createTenant(t.ctx, {
    slug,
    name: slug,
    owner: { email: `owner@${slug}.test`, name: "Owner", password: "correct horse battery" },
  });
  return created.tenantId;
}

async function setUp() {
  t = await createTestApp({ clock: { now: () => START + ++ticks } });
  tenantId = await newTenant("cb-batch-a");
  otherTenantId = await newTenant("cb-batch-b");
  fx = await insertPaymentSetup(t.ctx, tenantId);
  review = await insertPaymentSetup(t.ctx, tenantId, { amountPolicy: "review" });
  creditPaid = await insertPaymentSetup(t.ctx, tenantId, { amountPolicy: "credit_paid" });
  other = await insertPaymentSetup(t.ctx, otherTenantId);
}
beforeAll(setUp);
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

/**
 * Runs one case on a fresh database of its own, dropped at its end: a case that leaves a
 * credit on a pending order (the ledger refuses DELETE, migration 0003) keeps it out of the
 * shared database that the invariants check after each case.
 */
async function onOwnDatabase(test: () => Promise<void>) {
  const shared = { t, tenantId, otherTenantId, fx, review, creditPaid, other };
  await setUp();
  try {
    await test();
  } finally {
    await t.close();
    ({ t, tenantId, otherTenantId, fx, review, creditPaid, other } = shared);
  }
}
beforeEach(() => {
  applied.calls.length = 0;
});

// ---------------------------------------------------------------------------------------------
// Helpers

type Req = { body: string; token: string };

/** A callback for `dep` reported by `f`'s integration, signed with `signWith` (default: its token). */
const req = (
  f: PaymentFixture,
  dep: TestDeposit,
  overrides: CallbackFields = {},
  signWith = f.token,
): Req => ({
  body: callbackJson(callbackFields(f, dep, overrides), signWith),
  token: f.token,
});

/**
 * The integration lookup (cached for a second) done before the burst: the callbacks then reach
 * the batcher in the same turn of the event loop, in the order sent, and go in one batch.
 */
async function warm(...fixtures: PaymentFixture[]) {
  for (const f of fixtures) {
    await t.ctx.callbackIntegrations.find(f.merchantId, t.ctx.clock.now());
  }
}

/** Sends every callback at once through app.inject. */
async function sendAtOnce(reqs: Req[], fixtures: PaymentFixture[]): Promise<LightMyRequestResponse[]> {
  await warm(...fixtures);
  return Promise.all(reqs.map((r) => sendCallback(t.app, r.body, { token: r.token })));
}

type LogRow = {
  id: string;
  raw_body: string;
  verdict: string;
  error_type: string | null;
  http_status: number;
  deposit_id: string | null;
  tenant_id: string | null;
  integration_id: string | null;
  created_at: number;
};

/** The log rows of these orders, in id (= creation) order. */
const logsOfOrders = (orderNos: string[]): Promise<LogRow[]> =>
  t.ctx.db
    .selectFrom("callback_logs")
    .select([
      "id",
      "raw_body",
      "verdict",
      "error_type",
      "http_status",
      "deposit_id",
      "tenant_id",
      "integration_id",
      "created_at",
    ])
    .where("order_no", "in", orderNos)
    .orderBy("id")
    .execute();

/** Matches each log row to the request whose body it holds: the request indices in log order. */
function requestOrder(reqs: Req[], logs: LogRow[]): number[] {
  const used = new Set<number>();
  return logs.map((l) => {
    const i = reqs.findIndex((r, k) => !used.has(k) && r.body === l.raw_body);
    if (i < 0) throw new Error(`a log row matches no request: ${l.raw_body}`);
    used.add(i);
    return i;
  });
}

const reviewItems = (depositId: string) =>
  t.ctx.db.selectFrom("review_items").selectAll().where("deposit_id", "=", depositId).orderBy("id").execute();

/** A timeline entry: its id and tenant, and its data's fields. */
type EventRow = { id: string; tenantId: string; [field: string]: unknown };

/** An order's timeline entries of one kind, in order, with their data. */
const eventsOf = async (depositId: string, kind: string): Promise<EventRow[]> =>
  (
    await t.ctx.db
      .selectFrom("deposit_events")
      .select(["id", "tenant_id", "data"])
      .where("deposit_id", "=", depositId)
      .where("kind", "=", kind)
      .orderBy("id")
      .execute()
  ).map((e) => ({ ...(JSON.parse(e.data) as Record<string, unknown>), id: e.id, tenantId: e.tenant_id }));

/**
 * Everything a callback can change about an order, comparable between two orders of the same
 * shape (ids, order numbers and transaction ids left out).
 */
async function outcomeOf(dep: TestDeposit) {
  const row = await depositRow(t.ctx, dep.id);
  const items = (await reviewItems(dep.id)).map((i) => {
    const { transactionId: _tx, ...claim } = JSON.parse(i.data) as Record<string, unknown>;
    return { reason: i.reason, status: i.status, claim };
  });
  items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    status: row.status,
    failureReason: row.failure_reason,
    paidMinor: row.paid_amount_minor,
    creditMinor: row.credit_minor,
    finalized: row.finalized_at !== null,
    credits: (await ledgerEntriesOf(t.ctx, dep.id)).map((e) => Number(e.amount_minor)),
    changes: (await eventsOf(dep.id, "status_change")).map((e) => `${e.from}→${e.to}`),
    items,
  };
}

type Answer = { step: number; status: number; type: string | null; verdict: string };
const typeOf = (r: LightMyRequestResponse): string | null =>
  r.statusCode === 204 ? null : (r.json() as { type: string }).type;

/** Several callbacks for one order, in the order they are sent. */
type Group = { name: string; fx: PaymentFixture; steps: CallbackFields[]; deposit?: Partial<DepositsTable> };

/**
 * Sends every step of every group at once (steps interleaved across groups), checks that they
 * went in ONE batch, and returns each group's order and answers in the batch's (arrival) order.
 */
async function runTogether(groups: Group[]) {
  const deps = await Promise.all(groups.map((g) => insertDeposit(t.ctx, g.fx, g.deposit)));
  const reqs: (Req & { group: number; step: number })[] = [];
  for (let step = 0; step < Math.max(...groups.map((g) => g.steps.length)); step++) {
    groups.forEach((g, group) => {
      const fields = g.steps[step];
      if (fields) reqs.push({ ...req(g.fx, deps[group]!, fields), group, step });
    });
  }
  const res = await sendAtOnce(reqs, [...new Set(groups.map((g) => g.fx))]);
  const logs = await logsOfOrders(deps.map((d) => d.orderNo));
  expect(logs, "every callback is logged exactly once").toHaveLength(reqs.length);
  expect(new Set(logs.map((l) => l.created_at)).size, "the callbacks were not judged in one batch").toBe(1);
  const answers: Answer[][] = groups.map(() => []);
  requestOrder(reqs, logs).forEach((i, k) => {
    const r = reqs[i]!;
    answers[r.group]!.push({
      step: r.step,
      status: res[i]!.statusCode,
      type: typeOf(res[i]!),
      verdict: logs[k]!.verdict,
    });
  });
  return { deps, answers };
}

/**
 * The same groups applied without batching: for each group a fresh order of the same shape, its
 * callbacks sent one at a time, each awaited, in the given order of steps.
 */
async function runAlone(groups: Group[], orders: number[][]) {
  const deps: TestDeposit[] = [];
  const answers: Answer[][] = [];
  for (const [gi, g] of groups.entries()) {
    const dep = await insertDeposit(t.ctx, g.fx, g.deposit);
    deps.push(dep);
    const out: Answer[] = [];
    for (const step of orders[gi]!) {
      const r = req(g.fx, dep, g.steps[step]!);
      const res = await sendCallback(t.app, r.body, { token: r.token });
      const log = (await logsOfOrders([dep.orderNo])).at(-1)!;
      out.push({ step, status: res.statusCode, type: typeOf(res), verdict: log.verdict });
    }
    answers.push(out);
  }
  return { deps, answers };
}

/** Runs the groups in one batch, then one by one in the batch's order, and compares everything. */
async function expectBatchEqualsSerial(groups: Group[]) {
  const batch = await runTogether(groups);
  const serial = await runAlone(
    groups,
    batch.answers.map((a) => a.map((x) => x.step)),
  );
  // Soft: every difference of every group is reported, not only the first.
  for (const [gi, g] of groups.entries()) {
    expect.soft(batch.answers[gi], `${g.name}: the answers`).toEqual(serial.answers[gi]);
    expect
      .soft(await outcomeOf(batch.deps[gi]!), `${g.name}: the order afterwards`)
      .toEqual(await outcomeOf(serial.deps[gi]!));
    expect.soft((await ledgerEntriesOf(t.ctx, batch.deps[gi]!.id)).length).toBeLessThanOrEqual(1);
  }
  return batch;
}

const amount = (literal: string) => ({ amount: { literal } });
const SUCCESS: CallbackFields = { status: 1 };
const FAILURE: CallbackFields = { status: 0 };
const PROCESSING: CallbackFields = { status: 2 };

// ---------------------------------------------------------------------------------------------

describe("one batch, every callback answered as if alone", () => {
  it("a mix of successes, a duplicate, a failure, a bad signature, an unknown order and another tenant's order", async () => {
    const [s1, s2, s3, f1, s4] = await Promise.all(Array.from({ length: 5 }, () => insertDeposit(t.ctx, fx)));
    const b1 = await insertDeposit(t.ctx, other);
    const unknown = { ...s1!, orderNo: newOrderNo() };
    const balanceA = await walletBalance(t.ctx, fx.clientId);
    const balanceB = await walletBalance(t.ctx, other.clientId);

    type Expect = {
      name: string;
      r: Req;
      status: 204 | 400;
      type?: string;
      verdict: string;
      dep: TestDeposit | null;
      tenant: string;
    };
    const cases: Expect[] = [
      { name: "success 1", r: req(fx, s1!), status: 204, verdict: "accepted", dep: s1!, tenant: tenantId },
      { name: "success 2", r: req(fx, s2!), status: 204, verdict: "accepted", dep: s2!, tenant: tenantId },
      {
        name: "failure",
        r: req(fx, f1!, FAILURE),
        status: 204,
        verdict: "accepted",
        dep: f1!,
        tenant: tenantId,
      },
      // The same body as "success 1", later in the batch.
      { name: "duplicate", r: req(fx, s1!), status: 204, verdict: "duplicate", dep: s1!, tenant: tenantId },
      {
        name: "bad signature",
        r: req(fx, s4!, {}, "not-the-token"),
        status: 400,
        type: "psp_token_invalid",
        verdict: "rejected",
        dep: null,
        tenant: tenantId,
      },
      {
        name: "unknown order",
        r: req(fx, unknown),
        status: 400,
        type: "payment_not_found",
        verdict: "rejected",
        dep: null,
        tenant: tenantId,
      },
      {
        name: "tenant B's order, from B",
        r: req(other, b1),
        status: 204,
        verdict: "accepted",
        dep: b1,
        tenant: otherTenantId,
      },
      {
        name: "tenant B's order, from A's integration",
        r: req(fx, b1),
        status: 400,
        type: "payment_not_found",
        verdict: "rejected",
        dep: null,
        tenant: tenantId,
      },
      { name: "success 3", r: req(fx, s3!), status: 204, verdict: "accepted", dep: s3!, tenant: tenantId },
    ];

    const res = await sendAtOnce(
      cases.map((c) => c.r),
      [fx, other],
    );

    // Every answer is the one the spec gives the same callback alone
    // (docs/psp-open-api.md#callback-status-table).
    for (const [i, c] of cases.entries()) {
      expect(res[i]!.statusCode, `${c.name}: ${res[i]!.body}`).toBe(c.status);
      if (c.type) expect(res[i]!.json(), c.name).toEqual(callbackError(c.type));
      else expect(res[i]!.body, c.name).toBe("");
    }

    // One log row per callback, all written by one batch, in arrival order, each with its verdict.
    const logs = await logsOfOrders([s1!, s2!, s3!, f1!, s4!, b1, unknown].map((d) => d.orderNo));
    expect(logs).toHaveLength(cases.length);
    expect(new Set(logs.map((l) => l.created_at)).size, "not judged in one batch").toBe(1);
    const order = requestOrder(
      cases.map((c) => c.r),
      logs,
    );
    expect(order, "the batch's order is the order sent").toEqual(cases.map((_, i) => i));
    const integrationOf = (tenant: string) => (tenant === tenantId ? fx.integrationId : other.integrationId);
    expect(logs.map((l) => [l.verdict, l.error_type, l.http_status, l.deposit_id, l.tenant_id])).toEqual(
      cases.map((c) => [c.verdict, c.type ?? null, c.status, c.dep?.id ?? null, c.tenant]),
    );
    expect(logs.map((l) => l.integration_id)).toEqual(cases.map((c) => integrationOf(c.tenant)));
    // Every result that passed the checks was applied in one settlement, in arrival order.
    expect(applied.calls).toEqual([
      {
        depositIds: [s1!.id, s2!.id, f1!.id, s1!.id, b1.id, s3!.id],
        to: ["succeeded", "succeeded", "failed", "succeeded", "succeeded", "succeeded"],
        threw: false,
      },
    ]);

    // Exactly one credit per successful order, in its own tenant's wallet.
    for (const d of [s1!, s2!, s3!, b1]) {
      expect((await depositRow(t.ctx, d.id)).status).toBe("succeeded");
      expect((await ledgerEntriesOf(t.ctx, d.id)).map((e) => Number(e.amount_minor))).toEqual([9_720]);
    }
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balanceA + 3n * 9_720n);
    expect(await walletBalance(t.ctx, other.clientId)).toBe(balanceB + 9_720n);
    expect(await depositRow(t.ctx, f1!.id)).toMatchObject({
      status: "failed",
      failure_reason: "psp_reported_failure",
    });
    expect(await ledgerEntriesOf(t.ctx, f1!.id)).toEqual([]);
    expect((await depositRow(t.ctx, s4!.id)).status).toBe("pending");
    expect(await ledgerEntriesOf(t.ctx, s4!.id)).toEqual([]);

    // A timeline entry for every callback whose order was found, on that order, naming its log
    // row; none on an order a callback could not reach (bad signature, another tenant's order).
    const logIdsOf = (d: TestDeposit) => logs.filter((l) => l.deposit_id === d.id).map((l) => l.id);
    for (const [d, verdicts] of [
      [s1!, ["accepted", "duplicate"]],
      [s2!, ["accepted"]],
      [s3!, ["accepted"]],
      [f1!, ["accepted"]],
      [b1, ["accepted"]],
      [s4!, []],
    ] as const) {
      const events = await eventsOf(d.id, "callback");
      expect(events.map((e) => e.verdict)).toEqual(verdicts);
      expect(events.map((e) => e.callbackLogId)).toEqual(logIdsOf(d));
      expect(new Set(events.map((e) => e.tenantId))).toEqual(new Set(verdicts.length ? [d.tenantId] : []));
    }
    // The callback's entry sorts before the status change and credit it caused.
    for (const d of [s1!, s2!, s3!, b1]) {
      const accepted = (await eventsOf(d.id, "callback")).find((e) => e.verdict === "accepted")!;
      const [change] = await eventsOf(d.id, "status_change");
      const [ledger] = await eventsOf(d.id, "ledger");
      expect(change).toMatchObject({ from: "pending", to: "succeeded", cause: "callback" });
      expect(accepted.id < change!.id && change!.id < ledger!.id).toBe(true);
    }
  });

  it("many successes of one client at once: one batch, every order credited once", async () => {
    const deps = await Promise.all(Array.from({ length: 40 }, () => insertDeposit(t.ctx, fx)));
    const balance = await walletBalance(t.ctx, fx.clientId);
    const batches = async () => {
      const m = await t.ctx.metrics.callbackBatches.get();
      const of = (name: string) => m.values.find((v) => v.metricName === name)?.value ?? 0;
      return { count: of("psphub_callback_batch_size_count"), sum: of("psphub_callback_batch_size_sum") };
    };
    const before = await batches();
    const res = await sendAtOnce(
      deps.map((d) => req(fx, d)),
      [fx],
    );
    expect(res.map((r) => r.statusCode)).toEqual(deps.map(() => 204));
    expect(applied.calls.map((c) => c.depositIds)).toEqual([deps.map((d) => d.id)]);
    // The batch's size is exported for operators (/metrics).
    expect(await batches()).toEqual({ count: before.count + 1, sum: before.sum + 40 });
    for (const d of deps) expect(await ledgerEntriesOf(t.ctx, d.id)).toHaveLength(1);
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(balance + 40n * 9_720n);
  });
});

describe("a failing batch falls back to one callback at a time", () => {
  it("an order credited already (only the ledger's unique index stops it) fails the batch; every other callback is still applied once, that one is a duplicate", async () => {
    // `pre` keeps that credit (the ledger refuses DELETE): a database of its own.
    await onOwnDatabase(async () => {
      const pre = await insertDeposit(t.ctx, fx);
      const others = await Promise.all(Array.from({ length: 5 }, () => insertDeposit(t.ctx, fx)));
      const failing = await insertDeposit(t.ctx, fx);
      const foreign = await insertDeposit(t.ctx, other);
      // Another path already credited `pre` without moving it: the status check lets its callback
      // through and the ledger's unique index refuses the second credit, rolling the batch back.
      const earlier = await insertEarlierCredit(t.ctx, { tenantId, clientId: fx.clientId }, pre.id);
      const before = await depositRow(t.ctx, pre.id);
      const balanceA = await walletBalance(t.ctx, fx.clientId);
      const balanceB = await walletBalance(t.ctx, other.clientId);
      const [o1, o2, o3, o4, o5] = others as [
        TestDeposit,
        TestDeposit,
        TestDeposit,
        TestDeposit,
        TestDeposit,
      ];
      const reqs = [
        req(fx, o1),
        req(fx, o2),
        req(fx, pre),
        req(fx, o3),
        req(fx, failing, FAILURE),
        req(fx, o4, {}, "not-the-token"),
        req(other, foreign),
        req(fx, o5),
      ];
      const res = await sendAtOnce(reqs, [fx, other]);
      expect(res.map((r) => [r.statusCode, typeOf(r)])).toEqual([
        [204, null],
        [204, null],
        [204, null],
        [204, null],
        [204, null],
        [400, "psp_token_invalid"],
        [204, null],
        [204, null],
      ]);

      // The batch went to one settlement whole and failed; then each callback alone.
      const plans = [o1.id, o2.id, pre.id, o3.id, failing.id, foreign.id, o5.id];
      expect(applied.calls[0]).toEqual({
        depositIds: plans,
        to: ["succeeded", "succeeded", "succeeded", "succeeded", "failed", "succeeded", "succeeded"],
        threw: true,
      });
      expect(applied.calls.slice(1).map((c) => [c.depositIds, c.threw])).toEqual(
        plans.map((id) => [[id], id === pre.id]),
      );

      // Every other order applied exactly once…
      for (const d of [o1, o2, o3, o5, foreign]) {
        expect((await depositRow(t.ctx, d.id)).status).toBe("succeeded");
        expect((await ledgerEntriesOf(t.ctx, d.id)).map((e) => Number(e.amount_minor))).toEqual([9_720]);
        expect((await eventsOf(d.id, "status_change")).map((e) => `${e.from}→${e.to}`)).toEqual([
          "pending→succeeded",
        ]);
      }
      expect((await depositRow(t.ctx, failing.id)).status).toBe("failed");
      expect((await depositRow(t.ctx, o4.id)).status).toBe("pending");
      expect(await walletBalance(t.ctx, fx.clientId)).toBe(balanceA + 4n * 9_720n);
      expect(await walletBalance(t.ctx, other.clientId)).toBe(balanceB + 9_720n);

      // …the pre-credited one changed nothing and is recorded as a duplicate.
      expect(await depositRow(t.ctx, pre.id)).toEqual(before);
      expect((await ledgerEntriesOf(t.ctx, pre.id)).map((e) => e.id)).toEqual([earlier]);
      expect(await eventsOf(pre.id, "status_change")).toEqual([]);
      const preLogs = await logsOfOrders([pre.orderNo]);
      expect(preLogs.map((l) => [l.verdict, l.error_type, l.http_status, l.deposit_id])).toEqual([
        ["duplicate", null, 204, pre.id],
      ]);
      expect((await eventsOf(pre.id, "callback")).map((e) => [e.verdict, e.callbackLogId])).toEqual([
        ["duplicate", preLogs[0]!.id],
      ]);

      // Nothing of the rolled-back batch survived: one log row and one timeline entry per
      // callback, each written by its own transaction.
      const logs = await logsOfOrders([o1, o2, o3, o4, o5, pre, failing, foreign].map((d) => d.orderNo));
      expect(logs).toHaveLength(reqs.length);
      expect(new Set(logs.map((l) => l.created_at)).size).toBe(reqs.length);
      expect(logs.map((l) => l.verdict).sort()).toEqual([
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "duplicate",
        "rejected",
      ]);
      for (const d of [o1, o2, o3, o5, foreign, failing]) {
        expect((await eventsOf(d.id, "callback")).map((e) => e.verdict)).toEqual(["accepted"]);
      }
      expect(await eventsOf(o4.id, "callback")).toEqual([]);
    });
  });
});

describe("several callbacks for one order in one batch: as if applied one by one, in arrival order", () => {
  it("success then failure, failure then success, processing then success, and longer mixes", async () => {
    const batch = await expectBatchEqualsSerial([
      { name: "success, failure", fx, steps: [SUCCESS, FAILURE] },
      { name: "failure, success", fx, steps: [FAILURE, SUCCESS] },
      { name: "processing, success", fx, steps: [PROCESSING, SUCCESS] },
      { name: "success, processing", fx, steps: [SUCCESS, PROCESSING] },
      { name: "processing, failure, success", fx, steps: [PROCESSING, FAILURE, SUCCESS] },
      {
        name: "processing, processing (other tx), success",
        fx,
        steps: [PROCESSING, { status: 2, transaction_id: "other" }, SUCCESS],
      },
      { name: "review policy: processing, success", fx: review, steps: [PROCESSING, SUCCESS] },
    ]);
    // The spec's answers (docs/psp-open-api.md#callback-status-table), for the orders as they
    // arrived (the order sent, in one batch).
    const summary = batch.answers.map((a) => a.map((x) => [x.step, x.status, x.type, x.verdict]));
    expect(summary).toEqual([
      [
        [0, 204, null, "accepted"],
        [1, 400, "payment_status_not_pending", "review"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 400, "payment_status_not_pending", "review"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 204, null, "accepted"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 400, "payment_status_not_allowed", "rejected"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 204, null, "accepted"],
        [2, 400, "payment_status_not_pending", "review"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 204, null, "duplicate"],
        [2, 204, null, "accepted"],
      ],
      [
        [0, 204, null, "accepted"],
        [1, 204, null, "accepted"],
      ],
    ]);
    const [sf, fs, ps, sp, pfs] = batch.deps as TestDeposit[];
    expect(await outcomeOf(sf!)).toMatchObject({
      status: "succeeded",
      credits: [9_720],
      changes: ["pending→succeeded"],
      items: [{ reason: "conflict", claim: { status: 0, depositStatus: "succeeded" } }],
    });
    expect(await outcomeOf(fs!)).toMatchObject({
      status: "failed",
      credits: [],
      changes: ["pending→failed"],
      items: [{ reason: "conflict", claim: { status: 1, depositStatus: "failed" } }],
    });
    expect(await outcomeOf(ps!)).toMatchObject({
      status: "succeeded",
      credits: [9_720],
      changes: ["pending→processing", "processing→succeeded"],
      items: [],
    });
    expect(await outcomeOf(sp!)).toMatchObject({ status: "succeeded", credits: [9_720], items: [] });
    expect(await outcomeOf(pfs!)).toMatchObject({
      status: "failed",
      credits: [],
      changes: ["pending→processing", "processing→failed"],
    });
  });

  it("two identical successes and a failure for one order, many times over in one batch: one credit", async () => {
    await expectBatchEqualsSerial(
      Array.from({ length: 6 }, (_, i) => ({
        name: `order ${i}`,
        fx,
        steps: i % 2 ? [FAILURE, SUCCESS, SUCCESS] : [SUCCESS, SUCCESS, FAILURE],
      })),
    );
  });
});

describe("a brand-new client", () => {
  it("two (and three) orders of a client without a wallet in one batch: one wallet, balance = sum = ledger sum", async () => {
    const client = await insertClient(t.ctx, tenantId);
    const f = { ...fx, ...client };
    const deps = [
      await insertDeposit(t.ctx, f),
      await insertDeposit(t.ctx, f, { amount_minor: 25_000, fee_minor: 500, credit_minor: 24_500 }),
      await insertDeposit(t.ctx, f, { amount_minor: 1_234, fee_minor: 34, credit_minor: 1_200 }),
    ];
    // Another client's order in the same batch, so the wallet upsert has more than one wallet.
    const neighbour = await insertDeposit(t.ctx, fx);
    const neighbourBalance = await walletBalance(t.ctx, fx.clientId);
    const res = await sendAtOnce(
      [req(f, deps[0]!), req(fx, neighbour), req(f, deps[1]!), req(f, deps[2]!)],
      [fx],
    );
    expect(res.map((r) => r.statusCode)).toEqual([204, 204, 204, 204]);
    expect(applied.calls.map((c) => c.depositIds)).toEqual([
      [deps[0]!.id, neighbour.id, deps[1]!.id, deps[2]!.id],
    ]);

    const wallets = await t.ctx.db
      .selectFrom("wallets")
      .select(["id", "balance_minor", "currency", "tenant_id"])
      .where("client_id", "=", client.clientId)
      .execute();
    expect(wallets).toHaveLength(1);
    const wallet = wallets[0]!;
    expect(wallet).toMatchObject({ currency: "USD", tenant_id: tenantId });
    expect(BigInt(wallet.balance_minor)).toBe(9_720n + 24_500n + 1_200n);
    const entries = await t.ctx.db
      .selectFrom("ledger_entries")
      .select(["wallet_id", "amount_minor", "deposit_id"])
      .where("wallet_id", "=", wallet.id)
      .execute();
    expect(entries.map((e) => [e.deposit_id, Number(e.amount_minor)]).sort()).toEqual(
      [
        [deps[0]!.id, 9_720],
        [deps[1]!.id, 24_500],
        [deps[2]!.id, 1_200],
      ].sort(),
    );
    expect(entries.reduce((s, e) => s + BigInt(e.amount_minor), 0n)).toBe(BigInt(wallet.balance_minor));
    for (const d of deps) {
      expect((await eventsOf(d.id, "ledger")).map((e) => e.walletId)).toEqual([wallet.id]);
    }
    expect(await walletBalance(t.ctx, fx.clientId)).toBe(neighbourBalance + 9_720n);
  });
});

describe("amount policies in a batch", () => {
  it("a review-policy mismatch and exact-policy mismatches among normal callbacks: answers and review items as when alone", async () => {
    const groups: Group[] = [
      { name: "review: mismatched success", fx: review, steps: [{ ...SUCCESS, ...amount("80") }] },
      { name: "exact: normal success", fx, steps: [SUCCESS] },
      { name: "exact: mismatched success", fx, steps: [{ ...SUCCESS, ...amount("120") }] },
      { name: "review: normal success", fx: review, steps: [SUCCESS] },
      { name: "exact: mismatched failure", fx, steps: [{ ...FAILURE, ...amount("1") }] },
      { name: "review: mismatched processing", fx: review, steps: [{ ...PROCESSING, ...amount("0") }] },
      {
        name: "review: mismatched success for an expired order",
        fx: review,
        steps: [{ ...SUCCESS, ...amount("80") }],
        deposit: { status: "expired", finalized_at: 1 },
      },
      { name: "review: two mismatched successes", fx: review, steps: [amount("80"), amount("80")] },
    ];
    const batch = await expectBatchEqualsSerial(groups);
    const [rev, ok, exact, revOk, exactFail, revProc, late, revTwice] = batch.deps as TestDeposit[];
    expect(batch.answers.map((a) => a.map((x) => [x.status, x.type, x.verdict]))).toEqual([
      [[204, null, "review"]],
      [[204, null, "accepted"]],
      [[400, "payment_amount_not_allowed", "review"]],
      [[204, null, "accepted"]],
      [[400, "payment_amount_not_allowed", "rejected"]],
      [[204, null, "accepted"]],
      [[400, "payment_status_not_pending", "review"]],
      [
        [204, null, "review"],
        [204, null, "review"],
      ],
    ]);
    expect(await outcomeOf(rev!)).toMatchObject({
      status: "processing",
      paidMinor: 8_000,
      credits: [],
      items: [
        {
          reason: "amount_mismatch",
          status: "open",
          claim: {
            status: 1,
            amount: "80",
            paidMinor: "8000",
            creditMinor: "7770",
            depositStatus: "pending",
          },
        },
      ],
    });
    expect(await outcomeOf(exact!)).toMatchObject({
      status: "pending",
      credits: [],
      items: [
        {
          reason: "amount_mismatch",
          claim: { paidMinor: "12000", creditMinor: "11670", depositStatus: "pending" },
        },
      ],
    });
    for (const d of [ok!, revOk!])
      expect(await outcomeOf(d)).toMatchObject({ status: "succeeded", credits: [9_720], items: [] });
    expect(await outcomeOf(exactFail!)).toMatchObject({ status: "pending", items: [] });
    expect(await outcomeOf(revProc!)).toMatchObject({ status: "processing", items: [] });
    expect(await outcomeOf(late!)).toMatchObject({ status: "expired", items: [{ reason: "late_success" }] });
    expect(await outcomeOf(revTwice!)).toMatchObject({
      status: "processing",
      items: [{ reason: "amount_mismatch" }],
    });
  });
});

describe("checks before the status, judged against the order as the earlier callbacks of the batch left it", () => {
  // A callback is judged in its batch against the order as read at the start of the batch. The
  // amount-policy step (check 8) decides from that status whether a refused payment is kept
  // for review and what the item records: serially, the later callback sees the earlier one's
  // effect.
  it("exact policy: a success, then a mismatched success for the same order: refused, kept as a conflict (perhaps a second payment)", async () => {
    const batch = await expectBatchEqualsSerial([
      { name: "success, mismatched success", fx, steps: [SUCCESS, { ...SUCCESS, ...amount("120") }] },
    ]);
    // What the same two callbacks get one after the other (callback-flows.db.test.ts, "exact").
    expect(batch.answers[0]!.map((a) => [a.step, a.status, a.type, a.verdict])).toEqual([
      [0, 204, null, "accepted"],
      [1, 400, "payment_amount_not_allowed", "review"],
    ]);
    expect(await outcomeOf(batch.deps[0]!)).toMatchObject({
      status: "succeeded",
      credits: [9_720],
      items: [{ reason: "conflict", claim: { paidMinor: "12000", depositStatus: "succeeded" } }],
    });
  });

  it("credit_paid and review: a success with another amount than the one the batch settled the order with is a conflict", async () => {
    const batch = await expectBatchEqualsSerial([
      {
        name: "credit_paid: 90, 90 again, then 100",
        fx: creditPaid,
        steps: [{ ...SUCCESS, ...amount("90") }, { ...SUCCESS, ...amount("90.00") }, SUCCESS],
      },
      {
        name: "review: 80 held, 100 credited, 80 again",
        fx: review,
        steps: [{ ...SUCCESS, ...amount("80") }, SUCCESS, { ...SUCCESS, ...amount("80") }],
      },
    ]);
    expect(batch.answers.map((a) => a.map((x) => [x.status, x.type, x.verdict]))).toEqual([
      [
        [204, null, "accepted"],
        [204, null, "duplicate"],
        [400, "payment_status_not_pending", "review"],
      ],
      [
        [204, null, "review"],
        [204, null, "accepted"],
        [400, "payment_status_not_pending", "review"],
      ],
    ]);
    expect(await outcomeOf(batch.deps[0]!)).toMatchObject({
      status: "succeeded",
      paidMinor: 9_000,
      credits: [9_000 - 255],
      items: [{ reason: "conflict", claim: { paidMinor: "10000", depositStatus: "succeeded" } }],
    });
    expect(await outcomeOf(batch.deps[1]!)).toMatchObject({ status: "succeeded", credits: [9_720] });
  });

  it("review policy: processing, then a mismatched success: the review item records the order as processing", async () => {
    const batch = await expectBatchEqualsSerial([
      {
        name: "processing, mismatched success",
        fx: review,
        steps: [PROCESSING, { ...SUCCESS, ...amount("80") }],
      },
    ]);
    expect(batch.answers[0]!.map((a) => [a.step, a.status, a.verdict])).toEqual([
      [0, 204, "accepted"],
      [1, 204, "review"],
    ]);
    expect(await outcomeOf(batch.deps[0]!)).toMatchObject({
      status: "processing",
      items: [{ reason: "amount_mismatch", claim: { paidMinor: "8000", depositStatus: "processing" } }],
    });
  });
});
