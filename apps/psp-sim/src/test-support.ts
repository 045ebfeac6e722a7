// Helpers of the simulator's tests (not exported from the package): a fake CRM on loopback, and a
// simulator started against it with the CRM's side of API-1 and a browser's side of the page.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CallbackErrorType,
  callbackErrorBody,
  isoExponent,
  parseAmount,
  parseCallback,
  parseFlatJson,
  parsePayoutCallback,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  type StatusAnswer,
  sign,
  signPayoutRequest,
  signPayoutStatusQuery,
  verify,
} from "@psphub/protocol";
import { type Api1ParamConfig, defaultApi1ParamConfig, toConfiguredKeys } from "@psphub/protocol/admin";
import { type SimOptions, startSim } from "./sim-server.js";

export const TOKEN = "sim-test-token-0123456789abcdef";
export const MERCHANT = "0123456789abcdef0123456789abcdef";

type CrmOrder = {
  amountMinor: bigint;
  currency: string;
  status: "pending" | "processing" | "succeeded" | "failed";
};

type CrmPayout = {
  amountMinor: bigint;
  currency: string;
  status: "sent" | "processing" | "paid" | "failed";
};

/**
 * A small fake CRM on loopback: API-2 with the spec's checks (docs/psp-open-api.md#api-2-checks:
 * header token, sign over the raw body with the protocol's verify, order, currency, amount in
 * minor units, status transitions, idempotent repeats). Not a mock of the SDK: the simulator
 * talks real HTTP to it.
 */
export async function fakeCrm(tokens: Record<string, string> = { [MERCHANT]: TOKEN }) {
  const orders = new Map<string, CrmOrder>();
  const payouts = new Map<string, CrmPayout>();
  const received: Array<{ body: string; answer: number; type?: string }> = [];
  const payoutReceived: Array<{ body: string; answer: number; type?: string }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const isPayout = req.url === "/api/psp/payout/callback";
    const answer = (type?: CallbackErrorType) => {
      (isPayout ? payoutReceived : received).push({
        body,
        answer: type ? 400 : 204,
        ...(type ? { type } : {}),
      });
      if (!type) return void res.writeHead(204).end();
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(callbackErrorBody(type)));
    };
    if (isPayout) return payoutCallback(body, req.headers["crm-pay-token"], answer);
    if (req.url !== "/api/psp/pay/callback") return answer("payment_not_found");
    let parsed: ReturnType<typeof parseFlatJson>;
    try {
      parsed = parseFlatJson(body);
    } catch {
      return answer("request_malformed");
    }
    const cb = parseCallback(parsed.params, parsed.literals);
    if (!cb.ok) return answer("request_malformed");
    const token = tokens[cb.callback.merchantId];
    if (token === undefined) return answer("psp_setting_not_found");
    if (req.headers["crm-pay-token"] !== token || !verify(body, token)) return answer("psp_token_invalid");
    const order = orders.get(cb.callback.orderNo);
    if (!order) return answer("payment_not_found");
    if (cb.callback.currency !== order.currency) return answer("payment_currency_not_allowed");
    let paid: bigint;
    try {
      paid = parseAmount(cb.callback.amountText, isoExponent(order.currency)!);
    } catch {
      return answer("payment_amount_not_allowed");
    }
    if (paid !== order.amountMinor) return answer("payment_amount_not_allowed");
    const next = ({ 0: "failed", 1: "succeeded", 2: "processing" } as const)[cb.callback.status as 0 | 1 | 2];
    if (!next) return answer("payment_status_not_allowed");
    if (order.status === next) return answer();
    if (order.status === "succeeded" || order.status === "failed") {
      return answer(next === "processing" ? "payment_status_not_allowed" : "payment_status_not_pending");
    }
    order.status = next;
    return answer();
  });

  /** API-5 with the contract's checks (docs/psp-open-api.md#api-5): the amount exactly API-4's. */
  function payoutCallback(
    body: string,
    header: string | string[] | undefined,
    answer: (type?: CallbackErrorType) => void,
  ) {
    let parsed: ReturnType<typeof parseFlatJson>;
    try {
      parsed = parseFlatJson(body);
    } catch {
      return answer("request_malformed");
    }
    const cb = parsePayoutCallback(parsed.params, parsed.literals);
    if (!cb.ok) return answer("request_malformed");
    const token = tokens[cb.callback.merchantId];
    if (token === undefined) return answer("psp_setting_not_found");
    if (header !== token || !verify(body, token)) return answer("psp_token_invalid");
    const payout = payouts.get(cb.callback.orderNo);
    if (!payout) return answer("payment_not_found");
    if (cb.callback.currency !== payout.currency) return answer("payment_currency_not_allowed");
    let paid: bigint;
    try {
      paid = parseAmount(cb.callback.amountText, isoExponent(payout.currency)!);
    } catch {
      return answer("payment_amount_not_allowed");
    }
    if (paid !== payout.amountMinor) return answer("payment_amount_not_allowed");
    const next = ({ 0: "failed", 1: "paid", 2: "processing" } as const)[cb.callback.status as 0 | 1 | 2];
    if (!next) return answer("payment_status_not_allowed");
    if (payout.status === next) return answer();
    if (payout.status === "paid" || payout.status === "failed") {
      return answer(next === "processing" ? "payment_status_not_allowed" : "payment_status_not_pending");
    }
    payout.status = next;
    return answer();
  }
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { callbackUrl: `http://127.0.0.1:${port}/api/psp`, orders, received, payouts, payoutReceived };
}

/** Closed after each test by {@link closeAll}. */
export const cleanups: Array<() => Promise<void>> = [];

/** Polls `check` until it holds (timers fire late on a busy machine). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
/** Closes what the test started (call it from `afterEach`). */
export async function closeAll(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!();
}

export async function setup(overrides: Partial<SimOptions> = {}, crmTokens?: Record<string, string>) {
  const crm = await fakeCrm(crmTokens);
  const logs: string[] = [];
  const sim = await startSim({
    port: 0,
    callbackUrl: crm.callbackUrl,
    token: TOKEN,
    log: (line) => logs.push(line),
    ...overrides,
  });
  cleanups.push(sim.close);
  let counter = 0;

  /** The CRM's side of API-1: create an order and ask the simulator for its payment URL. */
  async function api1(
    named: Record<string, string | number> = {},
    opts: { token?: string; config?: Api1ParamConfig; custom?: Record<string, string>; test?: boolean } = {},
  ) {
    const orderNo = (named.order_no as string | undefined) ?? `ord-${++counter}`;
    const values = {
      merchant_id: MERCHANT,
      order_no: orderNo,
      amount: 162.48,
      currency: "USD",
      user_id: "u1",
      ...named,
    };
    crm.orders.set(orderNo, {
      amountMinor: parseAmount(String(values.amount), isoExponent(String(values.currency))!),
      currency: String(values.currency),
      status: "pending",
    });
    const wire = toConfiguredKeys(
      { named: values, ...(opts.custom ? { custom: opts.custom } : {}) },
      opts.config ?? defaultApi1ParamConfig(),
    );
    const res = await fetch(`${sim.url}/pay/url`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "crm-pay-token": opts.token ?? TOKEN,
        ...(opts.test ? { "x-psphub-test": "1" } : {}),
      },
      body: JSON.stringify({ ...wire, sign: sign(wire, opts.token ?? TOKEN) }),
    });
    const json = (await res.json()) as { data: { url: string } | null; result: boolean; msg: string };
    return { status: res.status, json, orderNo, url: json.data?.url ?? "" };
  }

  /** Presses a button on the payment page like a browser: a form post, then the redirect. */
  async function press(pageUrl: string, action: string, fields: Record<string, string> = {}) {
    const page = new URL(pageUrl);
    const key = page.searchParams.get("key")!;
    const res = await fetch(new URL(`${page.pathname}/action`, page), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key, action, ...fields }).toString(),
      redirect: "manual",
    });
    if (res.status !== 303) return { status: res.status, html: await res.text() };
    const result = await fetch(new URL(res.headers.get("location")!, page));
    return { status: result.status, html: await result.text() };
  }

  async function events(pageUrl: string) {
    const page = new URL(pageUrl);
    const res = await fetch(new URL(`${page.pathname}/events${page.search}`, page));
    return ((await res.json()) as { events: Array<Record<string, unknown>> }).events;
  }

  const callbacks = () =>
    crm.received.map((r) => ({
      ...r,
      parsed: parseCallback(parseFlatJson(r.body).params, parseFlatJson(r.body).literals),
    }));

  let payoutCounter = 0;

  /** The CRM's side of API-4: record a payout and ask the simulator to pay it. */
  async function api4(
    over: Partial<Parameters<typeof signPayoutRequest>[0]> = {},
    opts: { token?: string; header?: string; test?: boolean } = {},
  ) {
    const p = {
      merchantId: MERCHANT,
      payoutNo: `po${String(++payoutCounter).padStart(10, "0")}`,
      amountMinor: 9550n,
      decimals: 2,
      currency: "USD",
      userId: "u1",
      fields: { iban: "DE89370400440532013000" },
      time: Date.now(),
      ...over,
    };
    if (!crm.payouts.has(p.payoutNo))
      crm.payouts.set(p.payoutNo, { amountMinor: p.amountMinor, currency: p.currency, status: "sent" });
    const res = await fetch(`${sim.url}/payout/request`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "crm-pay-token": opts.header ?? opts.token ?? TOKEN,
        ...(opts.test ? { "x-psphub-test": "1" } : {}),
      },
      body: JSON.stringify(signPayoutRequest(p, opts.token ?? TOKEN)),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body, answer: parsePayoutRequestAnswer(body), payoutNo: p.payoutNo };
  }

  /** The CRM's payout status query; a found answer's data is verified and parsed. */
  async function payoutStatus(
    payoutNo: string,
    merchantId = MERCHANT,
  ): Promise<{ http: number; answer: StatusAnswer; status?: number; data?: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}/payout/status`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
      body: JSON.stringify(signPayoutStatusQuery({ merchantId, payoutNo, time: Date.now() }, TOKEN)),
    });
    const answer = parsePayoutStatusAnswer(await res.text());
    if (answer.kind !== "found") return { http: res.status, answer };
    const data = parseFlatJson(answer.dataText);
    const parsed = parsePayoutCallback(data.params, data.literals);
    return {
      http: res.status,
      answer,
      data: { ...data.params },
      ...(parsed.ok && verify(answer.dataText, TOKEN) ? { status: parsed.callback.status } : {}),
    };
  }

  /** Presses a button on a payout page like a browser (its key read from the page). */
  async function pressPayout(payoutNo: string, action: string, key?: string) {
    const page = await (await fetch(`${sim.url}/payout/${payoutNo}`)).text();
    const formKey = key ?? /name="key" value="([0-9a-f]+)"/.exec(page)?.[1] ?? "";
    const res = await fetch(`${sim.url}/payout/${payoutNo}/action`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ key: formKey, action }).toString(),
      redirect: "manual",
    });
    if (res.status !== 303) return { status: res.status, html: await res.text() };
    const after = await fetch(new URL(res.headers.get("location")!, sim.url));
    return { status: after.status, html: await after.text() };
  }

  /** The API-5 callbacks the CRM received, parsed. */
  const payoutCallbacks = () =>
    crm.payoutReceived.map((r) => {
      const { params, literals } = parseFlatJson(r.body);
      const parsed = parsePayoutCallback(params, literals);
      return { ...r, callback: parsed.ok ? parsed.callback : undefined };
    });

  return { sim, crm, logs, api1, press, events, callbacks, api4, payoutStatus, pressPayout, payoutCallbacks };
}
