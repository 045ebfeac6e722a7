import { type SimIntegration, type SimMode, startSim } from "@psphub/psp-sim";
import { resolveParamConfig } from "@psphub/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { newOrderNo } from "../../common/ids.js";
import { createGuardedClient } from "../../infra/http-out/guarded-client.js";
import { startCrmEmulator } from "./certify-crm-emulator.js";
import { junitXml } from "./certify-report.js";
import { type CertifyReport, type CertifyTarget, runCertify } from "./certify-suite.js";

// The suite against the reference simulator: it passes every case, and each broken mode fails
// exactly the cases it should (docs/certify.md#the-simulators-broken-modes). The simulator calls
// back to the suite's CRM emulator. API-1 gets 1 s here (a loopback answer takes milliseconds),
// the slow mode answers after 1.1 s, and the API-2 waits are seconds instead of a minute.
const TOKEN = "certify-test-token-0123456789abcdef";
const MERCHANT = "0123456789abcdef0123456789abcdef";
const http = createGuardedClient({ allowPrivate: true });
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
  await http.close();
});

async function certify(
  modes: SimMode[],
  more: Partial<CertifyTarget> = {},
  integration: Partial<SimIntegration> = {},
): Promise<CertifyReport> {
  const crm = await startCrmEmulator({
    port: 0,
    host: "127.0.0.1",
    token: TOKEN,
    ...(more.previousToken ? { previousToken: more.previousToken } : {}),
    now: Date.now,
  });
  const running = await startSim({
    port: 0,
    callbackUrl: crm.url,
    integrations: [{ token: TOKEN, merchantId: MERCHANT, modes, ...integration }],
    api1SlowMs: 1_100,
    slowMs: 400,
    callbackDeadlineMs: 3_000,
    log: () => {},
  });
  closers.push(async () => {
    await running.close();
    await crm.close();
  });
  return runCertify(
    {
      appUrl: running.url,
      merchantId: MERCHANT,
      token: TOKEN,
      statusQuery: true,
      allowHttpUrls: true,
      ...more,
    },
    {
      http,
      now: Date.now,
      newOrderNo,
      latencyLimitMs: 1_000,
      inbox: crm.inbox,
      waits: { hookWaitMs: 5_000, retryWaitMs: 5_000, quietMs: 1_000 },
    },
  );
}

const failedIds = (r: CertifyReport) => r.cases.filter((c) => c.verdict === "failed").map((c) => c.id);

describe("psphub certify against the simulator", () => {
  it("passes every case of a correct backend, and certifies it", async () => {
    const r = await certify([]);
    expect(failedIds(r)).toEqual([]);
    expect(r.certified).toBe(true);
    expect(r.cases.map((c) => [c.id, c.verdict])).toEqual([
      ["api1.answer", "passed"],
      ["api1.https", "passed"],
      ["api1.latency", "passed"],
      ["api1.bad_token", "passed"],
      ["api1.no_token", "passed"],
      ["api1.bad_sign", "passed"],
      ["api1.same_order", "passed"],
      ["api1.configured_keys", "skipped"],
      ["api2.success", "passed"],
      ["api2.failure", "passed"],
      ["api2.processing", "passed"],
      ["api2.retry_after_500", "passed"],
      ["api2.stop_after_400", "passed"],
      ["api2.amount_format", "passed"],
      ["api2.time_ms", "passed"],
      ["api2.signature", "passed"],
      ["api2.rotation", "skipped"],
      ["api3.known_order", "passed"],
      ["api3.unknown_order", "passed"],
      ["payout.request", "skipped"],
      ["payout.idempotent", "skipped"],
      ["payout.callback", "skipped"],
      ["payout.status", "skipped"],
    ]);
    // Payouts were not asked for: they do not apply, and do not stand in the way.
    for (const c of r.cases.filter((x) => x.id.startsWith("payout.")))
      expect(c).toMatchObject({
        notApplicable: true,
        detail: "payouts were not asked for (psphub certify --payouts)",
      });
    // Every API-1 request was marked as a test, and no exchange shows the token.
    const api1 = r.cases.flatMap((c) => c.exchanges).filter((e) => e.request.url.endsWith("/pay/url"));
    expect(api1.length).toBeGreaterThanOrEqual(8);
    for (const e of api1) expect(e.request.headers["x-psphub-test"]).toBe("1");
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(junitXml(r)).not.toContain(TOKEN);
  });

  it("checks renamed keys and custom parameters when the integration has them", async () => {
    const paramConfig = { order_no: { key: "orderId" } };
    const r = await certify(
      [],
      { paramConfig: resolveParamConfig(paramConfig, ["custom_1"]), customKeys: ["custom_1"] },
      { paramConfig, customKeys: ["custom_1"] },
    );
    expect(failedIds(r)).toEqual([]);
    expect(r.cases.find((c) => c.id === "api1.configured_keys")).toMatchObject({
      verdict: "passed",
      detail: "renamed: order_no→orderId; custom: custom_1",
    });
  });

  it("fails a backend that reads the spec's keys where the integration renamed them", async () => {
    // The suite is told of a rename the backend does not know: it answers the spec's names.
    const r = await certify([], { paramConfig: resolveParamConfig({ order_no: { key: "orderId" } }) });
    expect(failedIds(r)).toContain("api1.configured_keys");
  });

  it("checks a rotation: the new token serves API-1, callbacks signed with either token in its grace", async () => {
    const OLD = "certify-old-token-fedcba9876543210";
    // Updated backend: the new token first, the old one still accepted.
    const updated = await certify([], { previousToken: OLD }, { previousToken: OLD });
    expect(failedIds(updated)).toEqual([]);
    expect(updated.certified).toBe(true);
    expect(updated.cases.find((c) => c.id === "api2.rotation")).toMatchObject({
      verdict: "passed",
      detail: "API-1 served with the new token, and every callback signed with it",
    });
    // A backend that took the new token for API-1 but still signs callbacks with the old one.
    const lagging = await certify([], { previousToken: OLD }, { token: OLD, previousToken: TOKEN });
    expect(failedIds(lagging)).toEqual([]);
    expect(lagging.cases.find((c) => c.id === "api2.rotation")?.detail).toMatch(
      /^API-1 served with the new token; 6 callback\(s\) still signed with the previous token/,
    );
  });

  it("skips the API-2 cases without a place to receive callbacks, and does not certify", async () => {
    const r = await certify([], {}, {});
    expect(r.certified).toBe(true);
    const without = await runCertify(
      { appUrl: r.target.appUrl, merchantId: MERCHANT, token: TOKEN, allowHttpUrls: true },
      { http, now: Date.now, newOrderNo },
    );
    expect(
      without.cases.filter((c) => c.api === "API-2" && c.id !== "api2.rotation").map((c) => c.verdict),
    ).toEqual(Array(8).fill("skipped"));
    expect(failedIds(without)).toEqual([]);
    expect(without.certified).toBe(false);
  });

  it("says off, not failed, for API-3 when status queries are not enabled", async () => {
    const r = await certify([], { statusQuery: false });
    expect(r.cases.filter((c) => c.api === "API-3").map((c) => c.verdict)).toEqual(["skipped", "skipped"]);
    expect(r.certified).toBe(true);
  });

  it("fails an http payment URL unless http is allowed", async () => {
    const r = await certify([], { allowHttpUrls: false });
    expect(failedIds(r)).toEqual(["api1.https"]);
    expect(r.certified).toBe(false);
  });

  it("with payouts asked for, passes the payout cases of the simulator: one test payout, paid once", async () => {
    const r = await certify([], { payouts: true });
    expect(failedIds(r)).toEqual([]);
    expect(r.certified).toBe(true);
    const payouts = r.cases.filter((c) => c.id.startsWith("payout."));
    expect(payouts.map((c) => [c.id, c.api, c.verdict])).toEqual([
      ["payout.request", "API-4", "passed"],
      ["payout.idempotent", "API-4", "passed"],
      ["payout.callback", "API-5", "passed"],
      ["payout.status", "API-5", "passed"],
    ]);
    expect(payouts[0]!.detail).toMatch(
      /^result true, transaction_id simpo-[0-9a-f]{12} for \w{12} \(10\.50 USD\)$/,
    );
    expect(payouts[1]!.detail).toMatch(
      /^result true both times, transaction_id simpo-[0-9a-f]+; 1 paid API-5$/,
    );
    expect(payouts[2]!.detail).toBe("statuses 1, amount and sign right");
    expect(payouts[3]!.detail).toMatch(/^status 1 for \w{12}; payout_not_found for an unknown payout$/);
    // Both API-4 requests were test payouts, signed, and the API-5 came to /payout/callback.
    const api4 = payouts.flatMap((c) => c.exchanges).filter((e) => e.request.url.endsWith("/payout/request"));
    expect(api4).toHaveLength(2);
    for (const e of api4) {
      expect(e.request.headers["x-psphub-test"]).toBe("1");
      expect(e.request.stringA).toContain("amount=10.5&currency=USD&iban=DE89370400440532013000&");
    }
    expect(payouts[2]!.exchanges.map((e) => [e.direction, e.request.url])).toEqual([
      ["from_backend", "CRM_Callback_URL/payout/callback"],
    ]);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it("skips what needs API-5 without a place to receive callbacks, judging what it can", async () => {
    const r = await certify([], { payouts: true });
    const without = await runCertify(
      { appUrl: r.target.appUrl, merchantId: MERCHANT, token: TOKEN, allowHttpUrls: true, payouts: true },
      { http, now: Date.now, newOrderNo },
    );
    expect(without.cases.filter((c) => c.id.startsWith("payout.")).map((c) => [c.id, c.verdict])).toEqual([
      ["payout.request", "passed"],
      ["payout.idempotent", "skipped"],
      ["payout.callback", "skipped"],
      ["payout.status", "passed"],
    ]);
    expect(without.certified).toBe(false);
  });

  it.each([
    [["payout_refuse"], ["payout.request"]],
    [["payout_not_idempotent"], ["payout.idempotent"]],
    [["payout_bad_sign"], ["payout.callback"]],
    [["payout_lost_callback"], ["payout.callback"]],
    [["not_found"], ["api3.known_order", "payout.status"]],
  ] as Array<[SimMode[], string[]]>)(
    "with payouts, mode %j fails exactly %j, and is not certified",
    async (modes, expected) => {
      const r = await certify(modes, { payouts: true });
      expect(failedIds(r)).toEqual(expected);
      expect(r.certified).toBe(false);
      for (const c of r.cases.filter((x) => x.verdict === "failed")) expect(c.fix).toBeTruthy();
    },
    30_000,
  );

  it("names what is wrong: a second paid API-5 with another transaction id, a spoiled sign, a refusal", async () => {
    const twice = await certify(["payout_not_idempotent"], { payouts: true });
    expect(twice.cases.find((c) => c.id === "payout.idempotent")?.detail).toMatch(
      /^the second request got another transaction_id \(simpo-\w+, then simpo-\w+\): paid twice\?$/,
    );
    const badSign = await certify(["payout_bad_sign"], { payouts: true });
    expect(badSign.cases.find((c) => c.id === "payout.callback")?.detail).toMatch(
      /^callback 1: sign does not verify \(StringA: amount=10\.5&currency=USD&merchant_id=/,
    );
    const refused = await certify(["payout_refuse"], { payouts: true });
    expect(refused.cases.filter((c) => c.id.startsWith("payout.")).map((c) => c.verdict)).toEqual([
      "failed",
      "skipped",
      "skipped",
      "skipped",
    ]);
    expect(refused.cases[refused.cases.length - 4]!.detail).toMatch(
      /got result false \(msg: payouts are refused \(mode payout_refuse\)\)$/,
    );
  }, 60_000);

  it.each([
    [["api1_no_checks"], ["api1.bad_token", "api1.no_token", "api1.bad_sign"]],
    [["api1_new_url"], ["api1.same_order"]],
    [["api1_slow"], ["api1.latency"]],
    [["not_found"], ["api3.known_order"]],
    [["garbage"], ["api3.known_order", "api3.unknown_order"]],
    [["bad_sign"], ["api3.known_order"]],
    [["api2_no_retry"], ["api2.retry_after_500"]],
    [["api2_retry_4xx"], ["api2.stop_after_400"]],
    [["api2_amount_string"], ["api2.amount_format"]],
    [["api2_time_seconds"], ["api2.time_ms"]],
    [["api2_bad_sign"], ["api2.signature"]],
    [
      ["lost_callback"],
      ["api2.success", "api2.failure", "api2.processing", "api2.retry_after_500", "api2.stop_after_400"],
    ],
  ] as Array<[SimMode[], string[]]>)(
    "mode %j fails exactly %j, and is not certified",
    async (modes, expected) => {
      const r = await certify(modes);
      expect(failedIds(r)).toEqual(expected);
      expect(r.certified).toBe(false);
      for (const c of r.cases.filter((x) => x.verdict === "failed")) expect(c.fix).toBeTruthy();
    },
    30_000,
  );
});
