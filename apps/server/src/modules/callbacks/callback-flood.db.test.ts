import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { callbackError, callbackFields, callbackJson, insertDeposit } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { REFUSED_BODY_LOG_CAP } from "./callback-log-repo.js";
import { CALLBACK_PATH } from "./callback-routes.js";

// Requests that fail the token or sign check cannot fill a tenant's callback log
// (docs/psp-open-api.md#api-2-throttling). Over the limits (per source address, per merchant) they
// are answered 429 and only counted; a callback that passes the token check is never throttled, and
// one that passes every authentication check but cannot be applied is still stored in full.

const PER_MERCHANT = 20;
const PER_ADDRESS = 30;
// Mid-minute, so that a whole test runs inside one rate-limit window of the fixed clock.
const clock = fixedClock(Date.UTC(2026, 0, 1, 12, 0, 30));

let t: TestApp;
let fx: PaymentFixture;
let other: PaymentFixture;
let third: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: {
      CALLBACK_REJECTIONS_PER_MINUTE_PER_MERCHANT: String(PER_MERCHANT),
      CALLBACK_REJECTIONS_PER_MINUTE_PER_ADDRESS: String(PER_ADDRESS),
    },
  });
  const { tenantId } = await createTenant(t.ctx, {
    slug: "cb-flood",
    name: "Flood",
    owner: { email: "owner@flood.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
  other = await insertPaymentSetup(t.ctx, tenantId);
  third = await insertPaymentSetup(t.ctx, tenantId);
});
afterAll(async () => t?.close());

/** A well-formed callback body of about 16 KB (the route's limit) for the fixture's merchant. */
function bigBody(merchant: PaymentFixture, orderNo: string, token: string): string {
  const fields = callbackFields(merchant, { orderNo, amountMinor: 10_000n, decimals: 2, currency: "USD" });
  return callbackJson({ ...fields, pad: "x".repeat(15_800) }, token);
}

function post(body: string, token: string, remoteAddress: string) {
  return t.app.inject({
    method: "POST",
    url: CALLBACK_PATH,
    payload: body,
    remoteAddress,
    headers: { "content-type": "application/json", "crm-pay-token": token },
  });
}

const rowsOf = (integrationId: string) =>
  t.ctx.db
    .selectFrom("callback_logs")
    .selectAll()
    .where("integration_id", "=", integrationId)
    .orderBy("created_at")
    .execute();

describe("a flood of callbacks that fail the token check", () => {
  it("stores at most the limit, each as a short prefix, counts the rest, and answers them 429", async () => {
    clock.set(Date.UTC(2026, 0, 1, 12, 0, 30));
    const body = bigBody(fx, "flood-order", "not-the-token");
    expect(body.length).toBeGreaterThan(16_000);
    const answers = [];
    // 200 requests from 200 addresses: the merchant's limit is what stops them.
    for (let i = 0; i < 200; i += 20) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, k) => post(body, "not-the-token", `198.51.100.${i + k}`)),
        )),
      );
    }
    // What the tenant's log holds for the flood: at most the limit's rows and one summary, each a
    // short prefix (not 200 rows of the full 16 KB body, 3.2 MB).
    const logged = await rowsOf(fx.integrationId);
    expect(logged.reduce((n, r) => n + r.raw_body.length, 0)).toBeLessThanOrEqual(
      (PER_MERCHANT + 1) * REFUSED_BODY_LOG_CAP,
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 400)).toHaveLength(PER_MERCHANT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(200 - PER_MERCHANT);
    const throttled = answers.find((a) => a.statusCode === 429);
    // The API-2 envelope: the type of the check that failed, with the HTTP status
    // (docs/psp-open-api.md#api-2-answers).
    expect(throttled?.json()).toEqual({ error: true, code: 429, type: "psp_token_invalid" });
    expect(Number(throttled?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(Number(throttled?.headers["retry-after"])).toBeLessThanOrEqual(60);

    await vi.waitFor(
      async () => {
        const rows = await rowsOf(fx.integrationId);
        const summary = rows.filter((r) => r.http_status === 429);
        expect(summary.reduce((n, r) => n + Number(r.request_count), 0)).toBe(200 - PER_MERCHANT);
      },
      { timeout: 10_000, interval: 100 },
    );
    const rows = await rowsOf(fx.integrationId);
    const stored = rows.filter((r) => r.http_status === 400);
    expect(stored).toHaveLength(PER_MERCHANT);
    for (const r of stored) {
      expect(r.error_type).toBe("psp_token_invalid");
      expect(r.raw_body.length).toBeLessThanOrEqual(REFUSED_BODY_LOG_CAP);
      expect(body.startsWith(r.raw_body)).toBe(true);
      expect(Number(r.request_count)).toBe(1);
    }
    // One summary row for the flood in this minute, where the tenant's admin sees it.
    const summary = rows.filter((r) => r.http_status === 429);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({
      tenant_id: fx.tenantId,
      merchant_id: fx.merchantId,
      verdict: "rejected",
      error_type: "psp_token_invalid",
    });
    expect(summary[0]?.raw_body.length).toBeLessThanOrEqual(REFUSED_BODY_LOG_CAP);
  });

  it("never throttles a callback that passes the token check, from the same address and merchant", async () => {
    clock.set(Date.UTC(2026, 0, 1, 12, 1, 30));
    const address = "203.0.113.7";
    const flood = bigBody(fx, "flood-order-2", "wrong");
    for (let i = 0; i < PER_MERCHANT + 5; i++) await post(flood, "wrong", address);
    expect((await post(flood, "wrong", address)).statusCode).toBe(429);

    const dep = await insertDeposit(t.ctx, fx);
    const valid = callbackJson(callbackFields(fx, dep), fx.token);
    const ok = await post(valid, fx.token, address);
    expect(ok.statusCode, ok.body).toBe(204);
    const row = await t.ctx.db
      .selectFrom("deposits")
      .select("status")
      .where("id", "=", dep.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("succeeded");

    // A right token with a wrong sign is the tenant's own mistake: answered 400, never 429,
    // and kept as a prefix.
    const badSign = callbackJson({ ...callbackFields(fx, dep), pad: "y".repeat(4_000) }, fx.token, {
      signature: "0".repeat(40),
    });
    const refused = await post(badSign, fx.token, address);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual(callbackError("psp_token_invalid"));

    // The flood is still throttled after the valid callback.
    expect((await post(flood, "wrong", address)).statusCode).toBe(429);
  });

  it("throttles one address across merchants, and not another address", async () => {
    clock.set(Date.UTC(2026, 0, 1, 12, 2, 30));
    const answers = [];
    // Two merchants in turn: each stays within its own limit (PER_MERCHANT), the address does not.
    for (let i = 0; i < 2 * PER_MERCHANT; i++) {
      const m = i % 2 === 0 ? fx : other;
      // Addresses in one IPv6 /64 count as one source.
      const from = `2001:db8:1:2::${(i % 9) + 1}`;
      answers.push((await post(bigBody(m, `a-${i}`, "wrong"), "wrong", from)).statusCode);
    }
    expect(answers.slice(0, PER_ADDRESS).every((s) => s === 400)).toBe(true);
    expect(answers.slice(PER_ADDRESS).every((s) => s === 429)).toBe(true);
    // Malformed bodies from that source are throttled too (they are as unauthenticated).
    expect((await post("{not json", "wrong", "2001:db8:1:2::ffff")).statusCode).toBe(429);
    // Another address, for a merchant within its limit, is not.
    expect((await post(bigBody(third, "x", "wrong"), "wrong", "2001:db8:1:3::1")).statusCode).toBe(400);
    // A new minute: the address may fail again.
    clock.set(Date.UTC(2026, 0, 1, 12, 3, 30));
    expect((await post(bigBody(other, "x", "wrong"), "wrong", "2001:db8:1:2::1")).statusCode).toBe(400);
  });

  it("throttles bodies refused unread (too large) from one address the same way", async () => {
    clock.set(Date.UTC(2026, 0, 1, 12, 5, 30));
    const address = "192.0.2.99";
    const huge = `{"pad":"${"x".repeat(17_000)}"}`;
    const statuses = [];
    for (let i = 0; i < PER_ADDRESS + 3; i++) statuses.push((await post(huge, "wrong", address)).statusCode);
    expect(statuses.slice(0, PER_ADDRESS).every((s) => s === 413)).toBe(true);
    expect(statuses.slice(PER_ADDRESS).every((s) => s === 429)).toBe(true);
    const last = await post(huge, "wrong", address);
    expect(last.json()).toEqual({ error: true, code: 429, type: "request_too_large" });
    expect(last.headers["retry-after"]).toBeDefined();
    const stored = await t.ctx.db
      .selectFrom("callback_logs")
      .select("http_status")
      .where("remote_addr", "=", address)
      .where("http_status", "=", 413)
      .execute();
    expect(stored).toHaveLength(PER_ADDRESS);
  });

  it("stores in full a callback that passes the token and sign checks but cannot be applied", async () => {
    clock.set(Date.UTC(2026, 0, 1, 12, 4, 30));
    const fields = callbackFields(fx, {
      orderNo: "no-such-order",
      amountMinor: 10_000n,
      decimals: 2,
      currency: "USD",
    });
    const body = callbackJson({ ...fields, pad: "z".repeat(12_000) }, fx.token);
    const res = await post(body, fx.token, "192.0.2.44");
    expect(res.json()).toEqual(callbackError("payment_not_found"));
    const row = await t.ctx.db
      .selectFrom("callback_logs")
      .select("raw_body")
      .where("order_no", "=", "no-such-order")
      .executeTakeFirstOrThrow();
    expect(row.raw_body).toBe(body);
  });
});
