import { verifyDetailed } from "@psphub/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as hashing from "../../infra/crypto/hashing.js";
import {
  callbackError,
  callbackFields,
  callbackJson,
  insertDeposit,
  sendCallback,
} from "../../test/callback-client.js";
import { insertIntegration, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";

// Tokens and signs are compared in constant time (docs/failure-modes.md#failure-mode-13).
// Timing itself belongs in benchmarks, so this proves the route to it: the header token goes
// through the constant-time `safeEqual` against EVERY token the integration accepts (no early
// exit that would tell which one matched), and the sign through the protocol's `verifyDetailed`
// (constant-time compare, tested in @psphub/protocol) with the token that matched. A plain `===` fails these tests.

vi.mock("../../infra/crypto/hashing.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../infra/crypto/hashing.js")>();
  return { ...actual, safeEqual: vi.fn(actual.safeEqual) };
});
vi.mock("@psphub/protocol", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@psphub/protocol")>();
  return { ...actual, verifyDetailed: vi.fn(actual.verifyDetailed) };
});

let t: TestApp;
let fx: PaymentFixture;
let fresh: string;

beforeAll(async () => {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "cb-ct",
    name: "Constant time",
    owner: { email: "owner@cb-ct.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
  // A rotation in its grace period: the new token is current, fx.token is the previous one.
  ({ token: fresh } = await insertIntegration(t.ctx, tenantId));
  await t.ctx.db
    .updateTable("psp_integrations")
    .set({
      token_enc: t.ctx.secretBox.seal(fresh),
      prev_token_enc: t.ctx.secretBox.seal(fx.token),
      prev_token_expires_at: Date.now() + 3_600_000,
    })
    .where("id", "=", fx.integrationId)
    .execute();
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);
beforeEach(() => {
  vi.mocked(hashing.safeEqual).mockClear();
  vi.mocked(verifyDetailed).mockClear();
});

/** The safeEqual calls that compared a header with one of this integration's tokens. */
const tokenComparisons = () =>
  vi
    .mocked(hashing.safeEqual)
    .mock.calls.filter(([, candidate]) => candidate === fresh || candidate === fx.token);

describe("constant-time comparisons on API-2", () => {
  it("compares the header with both accepted tokens even when the first one matches", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const res = await sendCallback(t.app, callbackJson(callbackFields(fx, dep), fresh), { token: fresh });
    expect(res.statusCode, res.body).toBe(204);
    expect(tokenComparisons()).toEqual([
      [fresh, fresh],
      [fresh, fx.token],
    ]);
    expect(vi.mocked(verifyDetailed).mock.calls.map((c) => c[1])).toEqual([fresh]);
  });

  it("checks the sign with the token the header matched (the previous one here), through verifyDetailed", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const res = await sendCallback(t.app, callbackJson(callbackFields(fx, dep), fx.token), {
      token: fx.token,
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(tokenComparisons()).toHaveLength(2);
    expect(vi.mocked(verifyDetailed).mock.calls.map((c) => c[1])).toEqual([fx.token]);
  });

  it("refuses a wrong header after comparing it with every token, and never checks the sign", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const wrong = `${fresh.slice(0, -1)}${fresh.endsWith("A") ? "B" : "A"}`;
    const res = await sendCallback(t.app, callbackJson(callbackFields(fx, dep), fresh), { token: wrong });
    expect(res.json()).toEqual(callbackError("psp_token_invalid"));
    expect(tokenComparisons()).toEqual([
      [wrong, fresh],
      [wrong, fx.token],
    ]);
    expect(verifyDetailed).not.toHaveBeenCalled();
  });
});
