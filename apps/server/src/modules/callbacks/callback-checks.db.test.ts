import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callbackError,
  callbackFields,
  callbackForm,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  moneySnapshot,
  type SendOptions,
  sendCallback,
  type TestDeposit,
} from "../../test/callback-client.js";
import {
  insertIntegration,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, createTestTenant, type TestApp } from "../../test/test-app.js";

let t: TestApp;
let fx: PaymentFixture;
/** A second integration of the same tenant. */
let sibling: PaymentFixture;
/** Another tenant's setup. */
let foreign: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  const a = (await createTestTenant(t.ctx, "cb-checks-a")).tenantId;
  fx = await insertPaymentSetup(t.ctx, a);
  sibling = await insertPaymentSetup(t.ctx, a);
  foreign = await insertPaymentSetup(t.ctx, (await createTestTenant(t.ctx, "cb-checks-b")).tenantId);
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

type Case = {
  name: string;
  /** Builds the request for a fresh pending deposit of `fx`. */
  build: (
    dep: TestDeposit,
  ) => Promise<{ body: string; opts: SendOptions }> | { body: string; opts: SendOptions };
  type: string;
  code?: number;
  /** A refused success that reports a payment is kept for review (amount policy `exact`). */
  verdict?: "review";
};

const json = (dep: TestDeposit, over = {}, token = fx.token, header: string | null = fx.token) => ({
  body: callbackJson(callbackFields(fx, dep, over), token),
  opts: { token: header },
});

const REFUSED: Case[] = [
  { name: "no crm-pay-token header", build: (d) => json(d, {}, fx.token, null), type: "psp_token_invalid" },
  {
    name: "a wrong header token",
    build: (d) => json(d, {}, fx.token, `${fx.token}x`),
    type: "psp_token_invalid",
  },
  { name: "an empty header token", build: (d) => json(d, {}, fx.token, ""), type: "psp_token_invalid" },
  {
    name: "a wrong sign (right header, body signed with another key)",
    build: (d) => json(d, {}, "not-the-token"),
    type: "psp_token_invalid",
  },
  {
    name: "a sign with one digit changed",
    build: (d) => {
      const body = callbackJson(callbackFields(fx, d), fx.token);
      const tampered = body.replace(/"sign":"(.)/, (_m, c: string) => `"sign":"${c === "0" ? "1" : "0"}`);
      return { body: tampered, opts: { token: fx.token } };
    },
    type: "psp_token_invalid",
  },
  {
    name: "a body changed after signing (amount)",
    build: (d) => ({
      body: callbackJson(callbackFields(fx, d), fx.token).replace('"amount":100', '"amount":1000'),
      opts: { token: fx.token },
    }),
    type: "psp_token_invalid",
  },
  {
    name: "a forged callback signed with another tenant's token (and that token in the header)",
    build: (d) => json(d, {}, foreign.token, foreign.token),
    type: "psp_token_invalid",
  },
  {
    name: "another tenant's token in the header, body signed with ours",
    build: (d) => json(d, {}, fx.token, foreign.token),
    type: "psp_token_invalid",
  },
  {
    name: "a sibling integration's token for this merchant",
    build: (d) => json(d, {}, sibling.token, sibling.token),
    type: "psp_token_invalid",
  },
  {
    name: "an unknown merchant_id",
    build: (d) => json(d, { merchant_id: "f".repeat(32) }),
    type: "psp_setting_not_found",
  },
  {
    name: "an unknown order_no",
    build: (d) => json(d, { order_no: "zzzzzzzzzzzz" }),
    type: "payment_not_found",
  },
  {
    name: "the order of a sibling integration, validly signed by its own integration",
    build: (d) => ({
      body: callbackJson(callbackFields(sibling, d), sibling.token),
      opts: { token: sibling.token },
    }),
    type: "payment_not_found",
  },
  {
    name: "the order of another tenant's integration, validly signed by that integration",
    build: (d) => ({
      body: callbackJson(callbackFields(foreign, d), foreign.token),
      opts: { token: foreign.token },
    }),
    type: "payment_not_found",
  },
  {
    name: "another currency",
    build: (d) => json(d, { currency: "EUR" }),
    type: "payment_currency_not_allowed",
  },
  {
    name: "the currency in lower case",
    build: (d) => json(d, { currency: "usd" }),
    type: "payment_currency_not_allowed",
  },
  {
    name: "a different amount",
    build: (d) => json(d, { amount: { literal: "99.99" } }),
    type: "payment_amount_not_allowed",
    verdict: "review",
  },
  {
    name: "too many decimals (100.001)",
    build: (d) => json(d, { amount: { literal: "100.001" } }),
    type: "payment_amount_not_allowed",
  },
  {
    name: "a negative amount",
    build: (d) => json(d, { amount: { literal: "-100" } }),
    type: "payment_amount_not_allowed",
  },
  { name: "status 3", build: (d) => json(d, { status: 3 }), type: "payment_status_not_allowed" },
  { name: "status -1", build: (d) => json(d, { status: -1 }), type: "payment_status_not_allowed" },
  {
    name: "status 1.5",
    build: (d) => json(d, { status: { literal: "1.5" } }),
    type: "payment_status_not_allowed",
  },
  {
    name: 'status "1" (a string in JSON)',
    build: (d) => json(d, { status: "1" }),
    type: "request_malformed",
  },
  {
    name: 'amount "100" (a string in JSON)',
    build: (d) => json(d, { amount: "100" }),
    type: "request_malformed",
  },
  { name: "order_no missing", build: (d) => json(d, { order_no: null }), type: "request_malformed" },
  {
    name: "sign missing",
    build: (d) => ({
      body: callbackJson(callbackFields(fx, d), fx.token, { signature: null }),
      opts: { token: fx.token },
    }),
    type: "request_malformed",
  },
  {
    name: "not JSON",
    build: () => ({ body: "{not json", opts: { token: fx.token } }),
    type: "request_malformed",
  },
  {
    name: "a raw NUL character in a form body",
    build: () => ({ body: "merchant_id=a\u0000b&x=1", opts: { token: fx.token, contentType: null } }),
    type: "request_malformed",
  },
  {
    name: "a \\u0000 escape in a JSON value (PostgreSQL text cannot hold it)",
    build: (d) => json(d, { transaction_id: "tx\u0000" }),
    type: "request_malformed",
  },
  {
    name: "a JSON array",
    build: (d) => ({
      body: `[${callbackJson(callbackFields(fx, d), fx.token)}]`,
      opts: { token: fx.token, contentType: "application/json" },
    }),
    type: "request_malformed",
  },
  {
    name: "a nested object",
    build: (d) => ({
      body: callbackJson(callbackFields(fx, d), fx.token).replace(
        '"currency":"USD"',
        '"currency":{"code":"USD"}',
      ),
      opts: { token: fx.token },
    }),
    type: "request_malformed",
  },
  {
    name: "a duplicate key (status twice: signed 0, applied 1?)",
    build: (d) => ({
      body: callbackJson(callbackFields(fx, d, { status: 0 }), fx.token).replace("}", ',"status":1}'),
      opts: { token: fx.token },
    }),
    type: "request_malformed",
  },
  {
    name: "an empty body (JSON content type)",
    build: () => ({ body: "", opts: { token: fx.token, contentType: "application/json" } }),
    type: "request_malformed",
  },
  {
    name: "an empty body (no content type)",
    build: () => ({ body: "", opts: { token: fx.token, contentType: null } }),
    type: "request_malformed",
  },
  {
    name: "whitespace only",
    build: () => ({ body: "  \n ", opts: { token: fx.token, contentType: "application/json" } }),
    type: "request_malformed",
  },
  {
    name: "a form body declared as JSON",
    build: (d) => ({
      body: callbackForm(callbackFields(fx, d), fx.token),
      opts: { token: fx.token, contentType: "application/json" },
    }),
    type: "request_malformed",
  },
  {
    name: "an invalid content-type header",
    build: (d) => ({
      body: callbackJson(callbackFields(fx, d), fx.token),
      opts: { token: fx.token, contentType: "///" },
    }),
    type: "request_malformed",
  },
  {
    name: "a body over the limit",
    build: (d) => ({
      body: callbackJson(
        callbackFields(fx, d, { pad: "x".repeat(t.ctx.config.callbackBodyLimit) }),
        fx.token,
      ),
      opts: { token: fx.token },
    }),
    type: "request_too_large",
    code: 413,
  },
];

describe("API-2 checks: each refusal answers its type, changes nothing, never 500", () => {
  for (const c of REFUSED) {
    it(`refuses ${c.name} with ${c.type}`, async () => {
      const dep = await insertDeposit(t.ctx, fx);
      // The sibling and foreign cases point at an order of the integration they sign as.
      const { body, opts } = await c.build(dep);
      const before = await moneySnapshot(t.ctx);
      const res = await sendCallback(t.app, body, opts);
      expect(res.statusCode).toBe(c.code ?? 400);
      expect(res.json()).toEqual(callbackError(c.type, c.code ?? 400));
      expect(await moneySnapshot(t.ctx)).toEqual(before);
      const log = await t.ctx.db
        .selectFrom("callback_logs")
        .selectAll()
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
      expect(log.some((l) => l.error_type === c.type && l.verdict === (c.verdict ?? "rejected"))).toBe(true);
      const items = await t.ctx.db
        .selectFrom("review_items")
        .select("reason")
        .where("deposit_id", "=", dep.id)
        .execute();
      expect(items.map((i) => i.reason)).toEqual(c.verdict ? ["amount_mismatch"] : []);
    });
  }

  it("refuses a disabled integration with psp_setting_not_found", async () => {
    const off = await insertPaymentSetup(t.ctx, fx.tenantId, { enabled: false });
    const dep = await insertDeposit(t.ctx, off);
    const before = await moneySnapshot(t.ctx);
    const res = await sendCallback(t.app, callbackJson(callbackFields(off, dep), off.token), {
      token: off.token,
    });
    expect(res.json()).toEqual(callbackError("psp_setting_not_found"));
    expect(await moneySnapshot(t.ctx)).toEqual(before);
  });

  it("refuses an order whose deposit method was deleted with deposit_method_not_found", async () => {
    const methodId = await insertMethod(t.ctx, fx.tenantId, fx.integrationId);
    const dep = await insertDeposit(t.ctx, { ...fx, methodId });
    await t.ctx.db
      .updateTable("deposit_methods")
      .set({ deleted_at: Date.now() })
      .where("id", "=", methodId)
      .execute();
    const before = await moneySnapshot(t.ctx);
    const res = await sendCallback(t.app, callbackJson(callbackFields(fx, dep), fx.token), {
      token: fx.token,
    });
    expect(res.json()).toEqual(callbackError("deposit_method_not_found"));
    expect(await moneySnapshot(t.ctx)).toEqual(before);
  });

  it("refuses the previous token once its rotation grace has passed", async () => {
    const rot = await insertPaymentSetup(t.ctx, fx.tenantId);
    const { token: fresh } = await insertIntegration(t.ctx, fx.tenantId);
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({
        token_enc: t.ctx.secretBox.seal(fresh),
        prev_token_enc: t.ctx.secretBox.seal(rot.token),
        prev_token_expires_at: Date.now() - 1,
      })
      .where("id", "=", rot.integrationId)
      .execute();
    const dep = await insertDeposit(t.ctx, rot);
    const res = await sendCallback(t.app, callbackJson(callbackFields(rot, dep), rot.token), {
      token: rot.token,
    });
    expect(res.json()).toEqual(callbackError("psp_token_invalid"));
  });

  // docs/psp-open-api.md#api-2-checks
  it("checks in the spec's order: a bad token wins over an unknown order, a wrong currency over a wrong amount", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const r1 = await sendCallback(
      t.app,
      callbackJson(callbackFields(fx, dep, { order_no: "nope" }), fx.token),
      {
        token: "wrong",
      },
    );
    expect(r1.json().type).toBe("psp_token_invalid");
    const r2 = await sendCallback(
      t.app,
      callbackJson(callbackFields(fx, dep, { currency: "EUR", amount: 5, status: 7 }), fx.token),
      { token: fx.token },
    );
    expect(r2.json().type).toBe("payment_currency_not_allowed");
    const r3 = await sendCallback(
      t.app,
      callbackJson(callbackFields(fx, dep, { amount: 5, status: 7 }), fx.token),
      {
        token: fx.token,
      },
    );
    expect(r3.json().type).toBe("payment_amount_not_allowed");
  });
});

describe("API-2 accepted forms", () => {
  it("applies a JSON success: 204 with no body, credited once, time/transaction/paid amount stored", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const res = await sendCallback(
      t.app,
      callbackJson(callbackFields(fx, dep, { time: 1_700_000_000_123 }), fx.token),
      {
        token: fx.token,
      },
    );
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    const row = await depositRow(t.ctx, dep.id);
    expect(row.status).toBe("succeeded");
    expect(row.psp_time).toBe(1_700_000_000_123);
    expect(row.transaction_id).toBe(`tx-${dep.orderNo}`);
    expect(row.paid_amount_minor).toBe(10_000);
    expect(row.finalized_at).not.toBeNull();
    const entries = await ledgerEntriesOf(t.ctx, dep.id);
    expect(entries.map((e) => e.amount_minor)).toEqual([9_720]);
  });

  it("applies a form-encoded success", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const body = callbackForm(callbackFields(fx, dep), fx.token);
    const res = await sendCallback(t.app, body, {
      token: fx.token,
      contentType: "application/x-www-form-urlencoded",
    });
    expect(res.statusCode).toBe(204);
    expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
  });

  it("reads a body without content type by sniffing (JSON and form)", async () => {
    const a = await insertDeposit(t.ctx, fx);
    const b = await insertDeposit(t.ctx, fx);
    const r1 = await sendCallback(t.app, callbackJson(callbackFields(fx, a), fx.token), {
      token: fx.token,
      contentType: null,
    });
    const r2 = await sendCallback(t.app, callbackForm(callbackFields(fx, b), fx.token), {
      token: fx.token,
      contentType: "text/plain",
    });
    expect([r1.statusCode, r2.statusCode]).toEqual([204, 204]);
  });

  it("accepts `100.0` signed over the literal text AND signed over String(number)", async () => {
    for (const signAs of ["literal", "parsed"] as const) {
      const dep = await insertDeposit(t.ctx, fx);
      const body = callbackJson(callbackFields(fx, dep, { amount: { literal: "100.0" } }), fx.token, {
        signAs,
      });
      expect(body).toContain('"amount":100.0');
      const res = await sendCallback(t.app, body, { token: fx.token });
      expect(res.statusCode, signAs).toBe(204);
      expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
    }
  });

  it("accepts exponent notation (1E2 = 100.00) and a lower-case sign", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const body = callbackJson(callbackFields(fx, dep, { amount: { literal: "1E2" } }), fx.token);
    const lower = body.replace(/"sign":"([0-9A-F]+)"/, (_m, s: string) => `"sign":"${s.toLowerCase()}"`);
    expect((await sendCallback(t.app, lower, { token: fx.token })).statusCode).toBe(204);
  });

  it("accepts the previous token during its rotation grace, and the new one", async () => {
    const rot = await insertPaymentSetup(t.ctx, fx.tenantId);
    const { token: fresh } = await insertIntegration(t.ctx, fx.tenantId);
    await t.ctx.db
      .updateTable("psp_integrations")
      .set({
        token_enc: t.ctx.secretBox.seal(fresh),
        prev_token_enc: t.ctx.secretBox.seal(rot.token),
        prev_token_expires_at: Date.now() + 3_600_000,
      })
      .where("id", "=", rot.integrationId)
      .execute();
    const old = await insertDeposit(t.ctx, rot);
    const neu = await insertDeposit(t.ctx, rot);
    const r1 = await sendCallback(t.app, callbackJson(callbackFields(rot, old), rot.token), {
      token: rot.token,
    });
    const r2 = await sendCallback(t.app, callbackJson(callbackFields(rot, neu), fresh), { token: fresh });
    expect([r1.statusCode, r2.statusCode]).toEqual([204, 204]);
    // The header token decides which token the sign must verify with: mixing them fails.
    const mixed = await insertDeposit(t.ctx, rot);
    const r3 = await sendCallback(t.app, callbackJson(callbackFields(rot, mixed), rot.token), {
      token: fresh,
    });
    expect(r3.json()).toEqual(callbackError("psp_token_invalid"));
  });

  it("accepts unknown extra keys (signed like the others) and optional keys left empty", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const body = callbackJson(
      callbackFields(fx, dep, { extra: "x", user_id: "", transaction_id: null }),
      fx.token,
    );
    expect((await sendCallback(t.app, body, { token: fx.token })).statusCode).toBe(204);
  });
});

// Answers in the API-2 envelope: docs/psp-open-api.md#api-2-answers.
describe("API-2 robustness", () => {
  it("answers any body with 204, 400 or 413 in the spec envelope, never 500, and changes no money", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const valid = callbackJson(callbackFields(fx, dep, { status: 2 }), fx.token);
    const before = await moneySnapshot(t.ctx);
    const body = fc.oneof(
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.json({ maxDepth: 3 }),
      fc
        .dictionary(
          fc.string({ maxLength: 12 }),
          fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
        )
        .map((o) => JSON.stringify(o)),
      // Mutations of a valid body: one character changed, cut short, or repeated.
      fc
        .tuple(fc.nat(valid.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
        .map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
      fc.nat(valid.length).map((n) => valid.slice(0, n)),
    );
    const contentType = fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/octet-stream",
      null,
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        contentType,
        fc.constantFrom<string | null>(fx.token, null, "x"),
        async (b, ct, token) => {
          const res = await sendCallback(t.app, b, { token, contentType: ct });
          expect([204, 400, 413]).toContain(res.statusCode);
          if (res.statusCode !== 204) {
            expect(res.json()).toEqual(callbackError(res.json().type, res.statusCode));
          }
        },
      ),
      { numRuns: 200 },
    );
    // Only the valid "processing" callback (or a mutation that kept it valid) may have moved it.
    const after = await moneySnapshot(t.ctx);
    expect(after.ledger).toEqual(before.ledger);
    expect(after.wallets).toEqual(before.wallets);
    expect(["pending", "processing"]).toContain((await depositRow(t.ctx, dep.id)).status);
  });

  it("answers 500 in the spec envelope only when storage itself fails (the tenant backend retries)", async () => {
    const broken = await createTestApp();
    try {
      await broken.ctx.db.destroy();
      const res = await sendCallback(
        broken.app,
        callbackJson(
          callbackFields(fx, { orderNo: "o", amountMinor: 1n, decimals: 2, currency: "USD" }),
          fx.token,
        ),
        {
          token: fx.token,
        },
      );
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: true, code: 500, type: "internal_error" });
    } finally {
      await broken.close();
    }
  });

  it("leaves other routes' body parsing alone (the raw-text parsers are the callback plugin's own)", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/auth/login",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBeDefined();
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    expect(Object.keys(doc.paths)).toContain("/api/psp/pay/callback");
  });
});

describe("API-2 records", () => {
  it("logs every callback with its verdict, raw body, content type and address, never the token", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const body = callbackJson(callbackFields(fx, dep), fx.token);
    await sendCallback(t.app, body, { token: fx.token });
    await sendCallback(t.app, body, { token: fx.token });
    await sendCallback(t.app, callbackJson(callbackFields(fx, dep), "wrong"), { token: fx.token });
    const logs = await t.ctx.db
      .selectFrom("callback_logs")
      .selectAll()
      .where("order_no", "=", dep.orderNo)
      .orderBy("created_at")
      .execute();
    expect(logs.map((l) => [l.verdict, l.error_type, l.http_status]).sort()).toEqual(
      [
        ["accepted", null, 204],
        ["duplicate", null, 204],
        ["rejected", "psp_token_invalid", 400],
      ].sort(),
    );
    expect(logs[0]!.raw_body).toBe(body);
    expect(logs[0]!.content_type).toBe("application/json");
    expect(logs[0]!.remote_addr).toBe("127.0.0.1");
    expect(logs[0]!.merchant_id).toBe(fx.merchantId);
    const events = await t.ctx.db
      .selectFrom("deposit_events")
      .select(["kind", "data"])
      .where("deposit_id", "=", dep.id)
      .execute();
    // An unverified callback is logged but never attached to the order's timeline: forgeries
    // must not be able to write into it.
    const callbacks = events.filter((e) => e.kind === "callback").map((e) => JSON.parse(e.data));
    expect(callbacks.map((c) => c.verdict).sort()).toEqual(["accepted", "duplicate"]);
    const verified = logs.filter((l) => l.deposit_id === dep.id).map((l) => l.id);
    expect(new Set(callbacks.map((c) => c.callbackLogId))).toEqual(new Set(verified));
    expect(events.filter((e) => e.kind === "status_change")).toHaveLength(1);
    expect(events.filter((e) => e.kind === "ledger")).toHaveLength(1);
  });

  it("never stores or logs any token (callback_logs, deposit_events, captured log lines)", async () => {
    const tokens = [fx.token, sibling.token, foreign.token];
    const all = [
      ...(await t.ctx.db.selectFrom("callback_logs").selectAll().execute()),
      ...(await t.ctx.db.selectFrom("deposit_events").selectAll().execute()),
      ...(await t.ctx.db.selectFrom("review_items").selectAll().execute()),
    ].map((r) => JSON.stringify(r));
    expect(all.length).toBeGreaterThan(10);
    // The signature mismatch cases log the canonical string: it must not carry the token.
    expect(t.logs.some((l) => l.includes("signature does not verify"))).toBe(true);
    for (const token of tokens) {
      expect(all.filter((r) => r.includes(token))).toEqual([]);
      expect(t.logs.filter((l) => l.includes(token))).toEqual([]);
    }
  });

  it("counts callbacks by verdict and type", async () => {
    const values = (await t.ctx.metrics.callbacks.get()).values;
    const count = (verdict: string, type: string) =>
      values.find((v) => v.labels.verdict === verdict && v.labels.type === type)?.value ?? 0;
    expect(count("accepted", "none")).toBeGreaterThan(0);
    expect(count("duplicate", "none")).toBeGreaterThan(0);
    expect(count("rejected", "psp_token_invalid")).toBeGreaterThan(0);
    expect(count("rejected", "request_too_large")).toBe(1);
    expect(count("review", "payment_amount_not_allowed")).toBeGreaterThan(0);
  });

  it("has a 500 for nothing above: no log line reports an unhandled error", () => {
    expect(t.logs.filter((l) => l.includes('"level":50'))).toEqual([]);
  });
});
