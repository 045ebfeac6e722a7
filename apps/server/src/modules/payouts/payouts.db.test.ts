import { sign, signPayoutCallback } from "@psphub/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import { toBigInt, writeTransaction } from "../../infra/db/database.js";
import { type Api1Stub, type StubRequest, startApi1Stub } from "../../test/api1-stub.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertClient, insertIntegration } from "../../test/payment-fixtures.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { seedWebhookEndpoint, storedWebhookEvents } from "../../test/webhook-fixtures.js";
import { findLedgerMismatches } from "../clients/ledger.js";
import { createPayoutCallbackHandler } from "./handle-payout-callback.js";
import { runDuePayouts } from "./payout-worker.js";

// Payouts through an integration on SQLite and PostgreSQL (docs/psp-open-api.md#payouts): API-4
// sent after the last approval to a real backend on loopback that checks token and sign; API-5
// debits the hold exactly once under duplicates and concurrency (two processes on PostgreSQL);
// a failure releases the hold (or keeps it for finance); a lost API-5 is settled by the payout
// status query; API-4 with no answer is sent again, then flagged for finance. Every refusal is
// answered in the API-2 envelope and kept in the callback log.

let t: TestApp;
let stub: Api1Stub;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let integ: { integrationId: string; merchantId: string; token: string };
let methodId: string;
let keepMethodId: string;
let client: { clientId: string; session: Session };

const CLIENT_PASSWORD = "client password 1";
/** What the backend answers: API-4 accepted, the status query from `statuses`. */
const statuses = new Map<string, 0 | 1 | 2>();
let api4: "accept" | "refuse" | "error" = "accept";

function backend(req: StubRequest) {
  const json = req.json ?? {};
  const ok = (body: unknown) => ({
    status: 200,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  if (req.path === "/payout/request") {
    if (api4 === "error") return { status: 502, body: "bad gateway" };
    if (api4 === "refuse") return ok({ result: false, msg: "account closed", data: null });
    return ok({ result: true, msg: "", data: { transaction_id: `tx-${json.payout_no}` } });
  }
  if (req.path === "/payout/status") {
    const payoutNo = String(json.payout_no);
    const status = statuses.get(payoutNo);
    if (status === undefined) return ok({ result: false, msg: "", data: { code: "payout_not_found" } });
    const w = sent.get(payoutNo);
    return ok({
      result: true,
      msg: "",
      data: signPayoutCallback(
        {
          merchantId: integ.merchantId,
          payoutNo,
          amount: Number(w?.amount),
          currency: "USD",
          status,
          time: Date.now(),
          transactionId: `tx-${payoutNo}`,
        },
        integ.token,
      ),
    });
  }
  return { status: 404, body: "" };
}
/** The API-4 bodies the backend received, by payout_no. */
const sent = new Map<string, Record<string, unknown>>();

async function method(failedPayout: "release" | "keep"): Promise<string> {
  const res = await tenant.owner.post("/api/admin/withdrawal-methods", {
    name: `Bank payout (${failedPayout})`,
    currencies: [{ code: "USD", min: "10.00", max: "5000.00", feePercent: "1", feeFixed: "0.50" }],
    fields: [{ key: "iban", label: "IBAN", required: true }],
    payoutMode: "integration",
    integrationId: integ.integrationId,
    approval: {
      bands: [{ from: "0", levels: 2 }],
      rolesByLevel: [
        ["finance", "admin", "owner"],
        ["admin", "owner"],
      ],
      autoPayout: true,
    },
    failedPayout,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function wallet() {
  const w = await t.ctx.db
    .selectFrom("wallets")
    .select(["balance_minor", "held_minor"])
    .where("client_id", "=", client.clientId)
    .executeTakeFirstOrThrow();
  return { balance: toBigInt(w.balance_minor), held: toBigInt(w.held_minor) };
}

const row = (id: string) =>
  t.ctx.db.selectFrom("withdrawals").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

/** A withdrawal requested by the client and approved at both levels (API-4 is then due). */
async function approved(amount = "100.00", via = methodId): Promise<{ id: string; payoutNo: string }> {
  const res = await client.session.post("/api/portal/withdrawals", {
    methodId: via,
    currency: "USD",
    amount,
    fields: { iban: "DE89 3704 0044 0532 0130 00" },
  });
  expect(res.statusCode, res.body).toBe(201);
  const { id, payoutNo } = res.json();
  for (const who of [tenant.finance, tenant.admin]) {
    const a = await who.post(`/api/admin/withdrawals/${id}/approve`, { comment: "checked" });
    expect(a.statusCode, a.body).toBe(200);
  }
  return { id, payoutNo };
}

/** Runs the payout job as a server process would, until nothing is due. */
async function runJob() {
  while ((await runDuePayouts(t.ctx, 10)) > 0);
}

function api5(
  payoutNo: string,
  status: 0 | 1 | 2,
  amount: number,
  opts: { token?: string; merchantId?: string } = {},
) {
  return JSON.stringify(
    signPayoutCallback(
      {
        merchantId: opts.merchantId ?? integ.merchantId,
        payoutNo,
        amount,
        currency: "USD",
        status,
        time: Date.now(),
        transactionId: `tx-${payoutNo}`,
      },
      opts.token ?? integ.token,
    ),
  );
}

/** A body re-signed after a change. */
const signed = ({ sign: _s, ...params }: Record<string, string | number>) => ({
  ...params,
  sign: sign(params, integ.token),
});

const postApi5 = (body: string, token = integ.token) =>
  t.app.inject({
    method: "POST",
    url: "/api/psp/payout/callback",
    headers: { "content-type": "application/json", "crm-pay-token": token },
    payload: body,
  });

async function debits(withdrawalId: string) {
  return t.ctx.db
    .selectFrom("ledger_entries")
    .select(["kind", "amount_minor"])
    .where("withdrawal_id", "=", withdrawalId)
    .orderBy("created_at")
    .execute();
}

beforeAll(async () => {
  stub = await startApi1Stub();
  stub.respond = (req) => {
    if (req.path === "/payout/request" && req.json) sent.set(String(req.json.payout_no), req.json);
    return backend(req);
  };
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t);
  integ = await insertIntegration(t.ctx, tenant.tenantId, { appUrl: stub.url });
  stub.token = integ.token;
  methodId = await method("release");
  keepMethodId = await method("keep");
  const c = await insertClient(t.ctx, tenant.tenantId, { password: CLIENT_PASSWORD });
  await writeTransaction(t.ctx.db, (trx) =>
    postLedgerEntry(trx, {
      tenantId: tenant.tenantId,
      clientId: c.clientId,
      currency: "USD",
      amountMinor: 1_000_000n,
      kind: "adjustment",
      depositId: null,
      now: Date.now(),
    }),
  );
  const email = (
    await t.ctx.db
      .selectFrom("clients")
      .select("email")
      .where("id", "=", c.clientId)
      .executeTakeFirstOrThrow()
  ).email;
  client = { clientId: c.clientId, session: await loginClient(t.app, tenant.slug, email, CLIENT_PASSWORD) };
  await seedWebhookEndpoint(t.ctx, tenant.tenantId, { url: "https://hooks.example.com/psphub" });
});
afterAll(async () => {
  await t?.close();
  await stub?.close();
});
beforeEach(() => {
  api4 = "accept";
});

describe("API-4 after the last approval", () => {
  it("sends the payout signed, with the client's fields, and waits for its result while paying", async () => {
    const before = await wallet();
    const { id, payoutNo } = await approved("100.00");
    expect((await row(id)).status).toBe("approved");
    await runJob();
    const req = stub.requests.find((r) => r.path === "/payout/request" && r.json?.payout_no === payoutNo);
    expect(req?.tokenOk).toBe(true);
    expect(req?.signOk).toBe(true);
    // 100.00 minus the fee (1 % + 0.50 = 1.50): the backend pays 98.50.
    expect(req?.json).toMatchObject({
      merchant_id: integ.merchantId,
      payout_no: payoutNo,
      amount: 98.5,
      currency: "USD",
      user_id: client.clientId,
      iban: "DE89 3704 0044 0532 0130 00",
    });
    const w = await row(id);
    expect(w.status).toBe("paying");
    expect(w.transaction_id).toBe(`tx-${payoutNo}`);
    expect(w.payout_due).not.toBeNull();
    expect(await wallet()).toEqual({ balance: before.balance, held: before.held + 10_000n });
  });
});

describe("API-5", () => {
  it("debits the hold once, however often the paid result is repeated", async () => {
    const before = await wallet();
    const { id, payoutNo } = await approved("50.00");
    await runJob();
    const body = api5(payoutNo, 1, 49.0);
    const first = await postApi5(body);
    expect(first.statusCode, first.body).toBe(204);
    for (let i = 0; i < 3; i++) expect((await postApi5(api5(payoutNo, 1, 49))).statusCode).toBe(204);
    expect((await row(id)).status).toBe("paid");
    // The hold, then its release with the debit: once each (the ledger's unique index).
    expect((await debits(id)).map((d) => d.kind).sort()).toEqual([
      "withdrawal_debit",
      "withdrawal_hold",
      "withdrawal_release",
    ]);
    expect(await wallet()).toEqual({ balance: before.balance - 5_000n, held: before.held });
    // A failure after the payment is refused, kept, and flagged for finance; no money moves.
    const late = await postApi5(api5(payoutNo, 0, 49));
    expect(late.json()).toMatchObject({ type: "payment_status_not_pending" });
    expect((await row(id)).needs_assistance).toBe("contradicting_result");
    expect(await wallet()).toEqual({ balance: before.balance - 5_000n, held: before.held });
    const logged = await t.ctx.db
      .selectFrom("callback_logs")
      .select(["verdict", "source"])
      .where("withdrawal_id", "=", id)
      .orderBy("created_at")
      .execute();
    expect(logged.map((l) => l.verdict)).toEqual([
      "accepted",
      "duplicate",
      "duplicate",
      "duplicate",
      "review",
    ]);
    expect(new Set(logged.map((l) => l.source))).toEqual(new Set(["payout_callback"]));
    const events = (await storedWebhookEvents(t.ctx, tenant.tenantId)).filter(
      (e) => e.type === "withdrawal.paid" && (e.data as { withdrawalId: string }).withdrawalId === id,
    );
    expect(events).toHaveLength(1);
  });

  it("debits once under concurrent paid callbacks, from two processes on PostgreSQL", async () => {
    const { id, payoutNo } = await approved("20.00");
    await runJob();
    const second =
      testDbKind() === "postgres" ? createAppContext(t.ctx.config, { logger: t.ctx.logger }) : t.ctx;
    try {
      const handlers = [createPayoutCallbackHandler(t.ctx), createPayoutCallbackHandler(second)];
      const body = api5(payoutNo, 1, 19.3);
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          handlers[i % 2]!({
            rawBody: body,
            contentType: "application/json",
            token: integ.token,
            remoteAddr: null,
          }),
        ),
      );
      expect(answers.every((a) => a.httpStatus === 204)).toBe(true);
    } finally {
      if (second !== t.ctx) await second.close();
    }
    expect((await debits(id)).filter((d) => d.kind === "withdrawal_debit")).toHaveLength(1);
    const verdicts = await t.ctx.db
      .selectFrom("callback_logs")
      .select("verdict")
      .where("withdrawal_id", "=", id)
      .execute();
    expect(verdicts.filter((v) => v.verdict === "accepted")).toHaveLength(1);
    expect(verdicts).toHaveLength(12);
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
  });

  it("releases the hold when the payout failed, and says so by webhook", async () => {
    const before = await wallet();
    const { id, payoutNo } = await approved("30.00");
    await runJob();
    expect((await postApi5(api5(payoutNo, 2, 29.2))).statusCode).toBe(204);
    expect((await row(id)).status).toBe("paying");
    expect((await postApi5(api5(payoutNo, 0, 29.2))).statusCode).toBe(204);
    expect((await row(id)).status).toBe("failed");
    expect(await wallet()).toEqual(before);
    const failed = (await storedWebhookEvents(t.ctx, tenant.tenantId)).filter(
      (e) => e.type === "withdrawal.failed" && (e.data as { withdrawalId: string }).withdrawalId === id,
    );
    expect(failed).toHaveLength(1);
  });

  it("keeps the hold for finance when the method says so; finance then closes it", async () => {
    const before = await wallet();
    const { id, payoutNo } = await approved("40.00", keepMethodId);
    await runJob();
    expect((await postApi5(api5(payoutNo, 0, 39.1))).statusCode).toBe(204);
    const w = await row(id);
    expect([w.status, w.needs_assistance]).toEqual(["paying", "failed_hold_kept"]);
    expect(await wallet()).toEqual({ balance: before.balance, held: before.held + 4_000n });
    const detail = (await tenant.finance.get(`/api/admin/withdrawals/${id}`)).json();
    expect(detail.actions.markFailed.allowed).toBe(true);
    const closed = await tenant.finance.post(`/api/admin/withdrawals/${id}/mark-failed`, {
      comment: "bank bounced it",
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json().status).toBe("failed");
    expect(await wallet()).toEqual(before);
  });

  it("refuses what it cannot apply in the API-2 envelope, and logs every refusal", async () => {
    const { id, payoutNo } = await approved("25.00");
    await runJob();
    const cases: Array<[string, Awaited<ReturnType<typeof postApi5>>]> = [
      ["request_malformed", await postApi5("{not json")],
      ["psp_token_invalid", await postApi5(api5(payoutNo, 1, 24.25), "wrong-token")],
      ["psp_token_invalid", await postApi5(api5(payoutNo, 1, 24.25, { token: "another-token-value-123" }))],
      ["payment_not_found", await postApi5(api5("nosuchpayout", 1, 24.25))],
      ["payment_amount_not_allowed", await postApi5(api5(payoutNo, 1, 24.26))],
      [
        "payment_status_not_allowed",
        await postApi5(JSON.stringify(signed({ ...JSON.parse(api5(payoutNo, 1, 24.25)), status: 7 }))),
      ],
    ];
    for (const [type, res] of cases) {
      expect(res.statusCode, `${type}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({ error: true, code: 400, type });
    }
    expect((await row(id)).status).toBe("paying");
    const refused = await t.ctx.db
      .selectFrom("callback_logs")
      .select("error_type")
      .where("source", "=", "payout_callback")
      .where("verdict", "=", "rejected")
      .execute();
    for (const [type] of cases) expect(refused.map((r) => r.error_type)).toContain(type);
  });

  it("never settles a payout of another tenant's integration", async () => {
    const other = await seedTenant(t);
    const otherInteg = await insertIntegration(t.ctx, other.tenantId, { appUrl: stub.url });
    const { id, payoutNo } = await approved("15.00");
    await runJob();
    const res = await postApi5(
      api5(payoutNo, 1, 14.35, { merchantId: otherInteg.merchantId, token: otherInteg.token }),
      otherInteg.token,
    );
    expect(res.json()).toMatchObject({ type: "payment_not_found" });
    expect((await row(id)).status).toBe("paying");
    expect((await other.owner.get(`/api/admin/withdrawals/${id}`)).statusCode).toBe(404);
  });
});

describe("the payout status query and API-4's outcomes", () => {
  it("settles a payout whose API-5 was lost", async () => {
    const before = await wallet();
    const { id, payoutNo } = await approved("60.00");
    await runJob();
    statuses.set(payoutNo, 1);
    await t.ctx.db
      .updateTable("withdrawals")
      .set({ payout_due: Date.now() - 1 })
      .where("id", "=", id)
      .execute();
    await runJob();
    const w = await row(id);
    expect(w.status).toBe("paid");
    expect(w.payout_due).toBeNull();
    expect(await wallet()).toEqual({ balance: before.balance - 6_000n, held: before.held });
    const query = stub.requests.find((r) => r.path === "/payout/status" && r.json?.payout_no === payoutNo);
    expect([query?.tokenOk, query?.signOk]).toEqual([true, true]);
    const log = await t.ctx.db
      .selectFrom("callback_logs")
      .select(["source", "verdict"])
      .where("withdrawal_id", "=", id)
      .execute();
    expect(log).toEqual([{ source: "payout_status_query", verdict: "accepted" }]);
  });

  it("fails a payout the backend refused, releasing the hold", async () => {
    const before = await wallet();
    api4 = "refuse";
    const { id } = await approved("70.00");
    await runJob();
    expect((await row(id)).status).toBe("failed");
    expect(await wallet()).toEqual(before);
  });

  it("sends API-4 again when it got no answer, then asks finance; finance checks it now", async () => {
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({ status_query_schedule: "[10, 10]" })
      .where("id", "=", integ.integrationId)
      .execute();
    try {
      api4 = "error";
      const { id, payoutNo } = await approved("80.00");
      await runJob();
      let w = await row(id);
      expect([w.status, w.payout_step, w.needs_assistance]).toEqual(["approved", 1, null]);
      await t.ctx.db
        .updateTable("withdrawals")
        .set({ payout_due: Date.now() - 1 })
        .where("id", "=", id)
        .execute();
      await runJob();
      w = await row(id);
      expect([w.status, w.payout_due, w.needs_assistance]).toEqual(["approved", null, "api4_unanswered"]);
      expect(
        stub.requests.filter((r) => r.path === "/payout/request" && r.json?.payout_no === payoutNo),
      ).toHaveLength(2);
      const queue = (await tenant.viewer.get("/api/admin/withdrawals?needsAssistance=true")).json();
      expect(queue.items.map((i: { id: string }) => i.id)).toContain(id);
      api4 = "accept";
      const checked = await tenant.finance.post(`/api/admin/withdrawals/${id}/check-payout`, {});
      expect(checked.statusCode, checked.body).toBe(200);
      expect(checked.json()).toMatchObject({ status: "paying", needsAssistance: null });
      expect(checked.json().events.map((e: { kind: string }) => e.kind)).toEqual(
        expect.arrayContaining([
          "payout_started",
          "api4_failed",
          "needs_assistance",
          "resolved",
          "api4_accepted",
        ]),
      );
    } finally {
      await t.ctx.db
        .updateTable("psp_integrations")
        .set({ status_query_schedule: null })
        .where("id", "=", integ.integrationId)
        .execute();
    }
  });

  it("keeps balance = ledger sum and held = the open withdrawals after all of it", async () => {
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
    const open = await t.ctx.db
      .selectFrom("withdrawals")
      .select(["amount_minor", "status", "needs_assistance"])
      .where("client_id", "=", client.clientId)
      .execute();
    const held = open
      .filter((w) => !["paid", "failed", "rejected", "cancelled"].includes(w.status))
      .reduce((s, w) => s + toBigInt(w.amount_minor), 0n);
    expect((await wallet()).held).toBe(held);
  });
});
