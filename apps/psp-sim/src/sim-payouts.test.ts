import { formatAmount, PAYOUT_NOT_FOUND, parseAmount, signPayoutRequest } from "@psphub/protocol";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type SimMode, startSim } from "./sim-server.js";
import { cleanups, closeAll, eventually, MERCHANT, setup, TOKEN } from "./test-support.js";

// The simulator's payouts (docs/psp-open-api.md#payouts) against a fake CRM on loopback that
// checks every API-5 callback as the contract says: API-4 idempotent by payout_no, the payout
// page's buttons, the payout status query, and the payout modes.
afterEach(closeAll);

const statuses = (cbs: Array<{ callback?: { orderNo: string; status: number } }>, payoutNo: string) =>
  cbs.filter((c) => c.callback?.orderNo === payoutNo).map((c) => c.callback!.status);

describe("psp-sim API-4", () => {
  it("takes a signed payout, answers result true with its transaction_id, and sends nothing yet", async () => {
    const { api4, sim, payoutCallbacks, logs } = await setup();
    const r = await api4();
    expect(r.status).toBe(200);
    expect(r.answer).toEqual({
      kind: "accepted",
      transactionId: expect.stringMatching(/^simpo-[0-9a-f]{12}$/),
      msg: "ok",
    });
    const payout = sim.sim.payouts.get(r.payoutNo)!;
    expect(payout.request).toMatchObject({
      merchantId: MERCHANT,
      amount: "95.5",
      amountMinor: 9550n,
      currency: "USD",
      fields: { iban: "DE89370400440532013000" },
      test: false,
    });
    expect(payout.outcome).toBeUndefined();
    expect(payoutCallbacks()).toEqual([]);
    expect(logs.join("\n")).toContain(`API-4 payout ${r.payoutNo}: 95.5 USD, accepted`);
  });

  it("is idempotent by payout_no: a repeat answers the same transaction_id and creates nothing", async () => {
    const { api4, sim, payoutCallbacks, logs } = await setup();
    const first = await api4({ payoutNo: "p0bhyp3lqm1x" });
    const again = await api4({ payoutNo: "p0bhyp3lqm1x", time: Date.now() + 60_000 });
    expect(again.answer).toEqual(first.answer);
    expect(sim.sim.payouts.size).toBe(1);
    expect(payoutCallbacks()).toEqual([]);
    expect(logs.join("\n")).toContain("asked again, the same payout");
    // The same payout_no for another amount: never a refusal (the first may be paid), a 500.
    const changed = await api4({ payoutNo: "p0bhyp3lqm1x", amountMinor: 9551n });
    expect(changed.status).toBe(500);
    expect(changed.answer.kind).toBe("invalid");
    expect(logs.join("\n")).toMatch(/API-4 error: payout p0bhyp3lqm1x came again with 95.51 USD/);
    expect(sim.sim.payouts.get("p0bhyp3lqm1x")!.request.amountMinor).toBe(9550n);
  });

  it("refuses a wrong token or sign with 401, and another merchant's payout for an integration with a merchant_id", async () => {
    const { api4, sim, logs } = await setup({
      token: undefined,
      integrations: [{ token: TOKEN, merchantId: MERCHANT }],
    });
    expect((await api4({}, { header: "not-the-token" })).status).toBe(401);
    expect((await api4({}, { token: "another", header: TOKEN })).status).toBe(401);
    const other = await api4({ merchantId: "ffffffffffffffffffffffffffffffff" });
    expect(other.answer).toEqual({ kind: "refused", msg: "merchant_id does not match the token" });
    expect(sim.sim.payouts.size).toBe(0);
    expect(logs.join("\n")).toContain("API-4 refused (401 token_invalid)");
    expect(logs.join("\n")).not.toContain(TOKEN);
  });

  it("pays a test payout (x-psphub-test: 1) at once", async () => {
    const { api4, payoutCallbacks, crm } = await setup();
    const r = await api4({}, { test: true });
    expect(r.answer.kind).toBe("accepted");
    await eventually(() => crm.payouts.get(r.payoutNo)!.status === "paid");
    expect(payoutCallbacks().map((c) => [c.answer, c.callback?.status, c.callback?.amountText])).toEqual([
      [204, 1, "95.5"],
    ]);
  });
});

describe("psp-sim payout page", () => {
  it("shows the payout with its fields, escaped, and Pay / Fail / Processing; the home page links to it", async () => {
    const { api4, sim } = await setup();
    const r = await api4({ fields: { iban: "DE89", note: '<script>alert("x")</script>' } });
    const res = await fetch(`${sim.url}/payout/${r.payoutNo}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain("Pay out 95.50 USD");
    expect(html).not.toContain("<script");
    expect(html).toContain("&#60;script&#62;");
    for (const action of ["paid", "failed", "processing"])
      expect(html).toContain(`name="action" value="${action}"`);
    const home = await (await fetch(`${sim.url}/`)).text();
    expect(home).toContain(`<a href="/payout/${r.payoutNo}"><code>${r.payoutNo}</code></a>`);
    expect(home).toContain("/payout/callback");
    expect(await (await fetch(`${sim.url}/healthz`)).json()).toEqual({ status: "ok", orders: 0, payouts: 1 });
  });

  it("Pay sends a signed API-5 the CRM accepts; the payout status query then answers 1", async () => {
    const { api4, pressPayout, payoutCallbacks, payoutStatus, crm } = await setup();
    const r = await api4({ amountMinor: 10010n });
    expect((await payoutStatus(r.payoutNo)).status).toBe(2);
    const page = await pressPayout(r.payoutNo, "paid");
    expect(page.status).toBe(200);
    expect(page.html).toContain("accepted (HTTP 204)");
    const [cb] = payoutCallbacks();
    expect(cb!.body).toContain(`"payout_no":"${r.payoutNo}"`);
    expect(cb!.body).not.toContain("order_no");
    expect(cb!.callback).toMatchObject({
      merchantId: MERCHANT,
      amountText: "100.1",
      currency: "USD",
      status: 1,
    });
    expect(cb!.callback!.transactionId).toBe(r.answer.kind === "accepted" ? r.answer.transactionId : "");
    expect(crm.payouts.get(r.payoutNo)!.status).toBe("paid");
    const status = await payoutStatus(r.payoutNo);
    expect(status.status).toBe(1);
    expect(status.data).toMatchObject({
      payout_no: r.payoutNo,
      amount: 100.1,
      transaction_id: cb!.callback!.transactionId,
    });
  });

  it("Processing then Pay sends 2 then 1; Fail after Pay is a conflict the page shows", async () => {
    const { api4, pressPayout, payoutCallbacks } = await setup();
    const r = await api4();
    await pressPayout(r.payoutNo, "processing");
    await pressPayout(r.payoutNo, "paid");
    const conflict = await pressPayout(r.payoutNo, "failed");
    expect(conflict.html).toContain("conflict: payment_status_not_pending");
    expect(statuses(payoutCallbacks(), r.payoutNo)).toEqual([2, 1, 0]);
  });

  it("refuses a forged form, an unknown payout, another method, an unknown action", async () => {
    const { api4, pressPayout, sim, payoutCallbacks } = await setup();
    const r = await api4();
    expect((await pressPayout(r.payoutNo, "paid", "0".repeat(32))).status).toBe(404);
    expect((await fetch(`${sim.url}/payout/unknown`)).status).toBe(404);
    expect((await fetch(`${sim.url}/payout/${r.payoutNo}/action`)).status).toBe(405);
    expect((await pressPayout(r.payoutNo, "refund")).status).toBe(400);
    expect((await fetch(`${sim.url}/payout/request`)).status).toBe(405);
    expect(payoutCallbacks()).toEqual([]);
    const events = (await (await fetch(`${sim.url}/payout/${r.payoutNo}/events`)).json()) as {
      events: unknown[];
    };
    expect(events.events).toEqual([]);
  });

  it("sends API-5 to the CRM's /payout/callback when given the full API-2 endpoint as callback URL", async () => {
    const { crm } = await setup();
    const full = await startSim({
      port: 0,
      callbackUrl: `${crm.callbackUrl}/pay/callback`,
      token: TOKEN,
      modes: ["payout_auto_pay"],
      log: () => {},
    });
    cleanups.push(full.close);
    const payoutNo = "p0bhyp3lqm1x";
    crm.payouts.set(payoutNo, { amountMinor: 1000n, currency: "USD", status: "sent" });
    const body = signPayoutRequest(
      {
        merchantId: MERCHANT,
        payoutNo,
        amountMinor: 1000n,
        decimals: 2,
        currency: "USD",
        userId: "u1",
        fields: {},
        time: Date.now(),
      },
      TOKEN,
    );
    const res = await fetch(`${full.url}/payout/request`, {
      method: "POST",
      headers: { "crm-pay-token": TOKEN },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    await eventually(() => crm.payouts.get(payoutNo)!.status === "paid");
    expect(crm.payoutReceived.map((r) => r.answer)).toEqual([204]);
  });
});

describe("psp-sim payout status query", () => {
  it("answers payout_not_found for a payout it never took, or another merchant's", async () => {
    const { api4, payoutStatus } = await setup();
    const unknown = await payoutStatus("p-never");
    expect(unknown.http).toBe(200);
    expect(unknown.answer.kind).toBe("not_found");
    const r = await api4();
    expect((await payoutStatus(r.payoutNo, "ffffffffffffffffffffffffffffffff")).answer.kind).toBe(
      "not_found",
    );
    expect(PAYOUT_NOT_FOUND).toBe("payout_not_found");
  });

  it.each([
    ["not_found", "not_found"],
    ["garbage", "invalid"],
    ["bad_sign", "found-unverified"],
  ] as const)("follows the status mode %s", async (mode, expected) => {
    const { api4, payoutStatus } = await setup({ modes: [mode] });
    const r = await api4();
    const s = await payoutStatus(r.payoutNo);
    const seen =
      s.answer.kind === "found" ? (s.status === undefined ? "found-unverified" : "found") : s.answer.kind;
    expect(seen).toBe(expected);
  });
});

describe("psp-sim payout modes", () => {
  it("payout_refuse: API-4 answers result false and keeps nothing", async () => {
    const { api4, sim } = await setup({ modes: ["payout_refuse"] });
    const r = await api4({}, { test: true });
    expect(r.status).toBe(200);
    expect(r.answer).toEqual({ kind: "refused", msg: "payouts are refused (mode payout_refuse)" });
    expect(sim.sim.payouts.size).toBe(0);
  });

  it("payout_lost_callback: Pay records the payment but sends no API-5; only the status query tells", async () => {
    const { api4, pressPayout, payoutCallbacks, payoutStatus, sim } = await setup({
      modes: ["payout_lost_callback"],
    });
    const r = await api4();
    const page = await pressPayout(r.payoutNo, "paid");
    expect(page.html).toContain("Mode payout_lost_callback");
    expect(page.html).toContain("not sent: the payout_lost_callback mode drops every API-5 callback");
    await sim.sim.idle();
    expect(payoutCallbacks()).toEqual([]);
    expect((await payoutStatus(r.payoutNo)).status).toBe(1);
  });

  it("payout_auto_pay: every payout is paid at once, once, even when asked again", async () => {
    const { api4, payoutCallbacks, crm, sim } = await setup({ modes: ["payout_auto_pay"] });
    const r = await api4();
    await api4({ payoutNo: r.payoutNo });
    await eventually(() => crm.payouts.get(r.payoutNo)!.status === "paid");
    await sim.sim.idle();
    expect(statuses(payoutCallbacks(), r.payoutNo)).toEqual([1]);
  });

  it("payout_not_idempotent (broken): a repeat is paid again with another transaction id", async () => {
    const { api4, payoutCallbacks, sim } = await setup({ modes: ["payout_not_idempotent"] });
    const first = await api4({}, { test: true });
    const again = await api4({ payoutNo: first.payoutNo }, { test: true });
    expect(again.answer.kind === "accepted" && again.answer.transactionId).not.toBe(
      first.answer.kind === "accepted" && first.answer.transactionId,
    );
    await eventually(() => payoutCallbacks().length === 2);
    await sim.sim.idle();
    const ids = payoutCallbacks().map((c) => c.callback?.transactionId);
    expect(new Set(ids).size).toBe(2);
    expect(statuses(payoutCallbacks(), first.payoutNo)).toEqual([1, 1]);
  });

  it("payout_bad_sign (broken): each API-5 sign is spoiled, the CRM refuses it", async () => {
    const { api4, payoutCallbacks, crm } = await setup({ modes: ["payout_bad_sign"] });
    const r = await api4({}, { test: true });
    await eventually(() => payoutCallbacks().length === 1);
    expect(payoutCallbacks()[0]).toMatchObject({ answer: 400, type: "psp_token_invalid" });
    expect(crm.payouts.get(r.payoutNo)!.status).toBe("sent");
  });

  it("takes the payout modes from an integration of its own", async () => {
    const modes: SimMode[] = ["payout_refuse"];
    const { api4 } = await setup({
      token: undefined,
      integrations: [{ token: TOKEN, merchantId: MERCHANT, modes }],
    });
    expect((await api4()).answer.kind).toBe("refused");
  });
});

describe("psp-sim payouts, any amount (property)", () => {
  let shared: Awaited<ReturnType<typeof setup>> | undefined;
  afterAll(closeAll);

  it("API-4 then Pay: the CRM is told exactly API-4's amount and currency, once", async () => {
    // One simulator for every run (afterEach would close it between them).
    shared ??= await setup({ modes: ["payout_auto_pay"] });
    const { api4, payoutCallbacks, crm, sim } = shared;
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.constantFrom(["USD", 2], ["JPY", 0], ["IQD", 3], ["EUR", 2]) as fc.Arbitrary<[string, number]>,
        async (amountMinor, [currency, decimals]) => {
          const r = await api4({ amountMinor, currency, decimals });
          await eventually(() => crm.payouts.get(r.payoutNo)!.status === "paid");
          await sim.sim.idle();
          const sent = payoutCallbacks().filter((c) => c.callback?.orderNo === r.payoutNo);
          expect(sent).toHaveLength(1);
          expect(sent[0]!.callback!.currency).toBe(currency);
          expect(parseAmount(sent[0]!.callback!.amountText, decimals)).toBe(amountMinor);
          expect(sim.sim.payouts.get(r.payoutNo)!.request.amount).toBe(
            String(Number(formatAmount(amountMinor, decimals))),
          );
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
