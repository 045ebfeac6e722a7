// A complete tenant backend: API-1 on POST /pay/url, a one-button payment page, API-2 after paying,
// API-3 on POST /pay/status so the CRM can ask where an order stands, and payouts: API-4 on
// POST /payout/request, API-5 once paid out, and the payout status query on POST /payout/status.
import { createServer } from "node:http";
import * as sdk from "@psphub/sdk";

const token = process.env.PSP_TOKEN ?? ""; // the integration's token (back office, eye icon)
const callbackUrl = process.env.CRM_CALLBACK_URL ?? ""; // CRM_Callback_URL (back office)
const base = process.env.PUBLIC_URL ?? "http://127.0.0.1:4200";
const orders = new Map<string, sdk.PaymentRequest>();
const paid = new Map<string, string>(); // order_no → transaction id
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The money moved: record it first (a status query then finds it even if the callback is lost),
// and tell the CRM (network errors and 5xx are retried for up to 10 minutes).
async function settle(order: sdk.PaymentRequest, status: sdk.OutcomeName, paidAmount = order.amount) {
  const transactionId = `tx-${order.orderNo}`;
  if (status === "success") paid.set(order.orderNo, transactionId);
  const callback = sdk.buildCallback(order, { status, paidAmount, transactionId });
  return sdk.sendCallback({ callbackUrl, token, callback, deadlineMs: 10 * 60_000 });
}

const api1 = sdk.createApi1Handler({
  tokens: [token], // during a token rotation: [newToken, oldToken]
  onPaymentRequest(req) {
    orders.set(req.orderNo, req); // the same order_no again gets the same page
    // psphub certify's test orders settle by themselves (docs/certify.md#test-hooks).
    for (const step of sdk.testHookSteps(req))
      setTimeout(() => void settle(req, step.status, step.paidAmount), step.afterMs);
    return { url: `${base}/checkout?order=${encodeURIComponent(req.orderNo)}` };
  },
});
const api3 = sdk.createStatusQueryHandler({
  tokens: [token],
  lookup(orderNo) {
    const order = orders.get(orderNo);
    if (!order) return null; // answered as order_not_found
    const transactionId = paid.get(orderNo);
    return { status: transactionId ? 1 : 2, amount: order.amount, currency: order.currency, transactionId };
  },
});
const payUrl = sdk.toNodeHandler(api1);
const payStatus = sdk.toNodeHandler(api3);

// Payouts. API-4 must be idempotent by payout_no: the CRM sends a payout again when it missed the
// answer. oncePerPayout answers a repeat from memory; a real backend keeps payouts in its database.
const payouts = new Map<string, { status: 0 | 1 | 2; amount: string; currency: string }>();
async function payOut(req: sdk.PayoutRequest) {
  // Send the money here (your bank or provider); this example pays at once. Record it first.
  payouts.set(req.payoutNo, { status: 1, amount: req.amount, currency: req.currency });
  const callback = sdk.buildPayoutCallback(req, { status: "success", transactionId: `po-${req.payoutNo}` });
  return sdk.sendPayoutCallback({ callbackUrl, token, callback, deadlineMs: 10 * 60_000 });
}
const api4 = sdk.createPayoutRequestHandler({
  tokens: [token],
  onPayout: sdk.oncePerPayout((req) => {
    payouts.set(req.payoutNo, { status: 2, amount: req.amount, currency: req.currency });
    setTimeout(() => void payOut(req), 0);
    return { accepted: true, transactionId: `po-${req.payoutNo}` }; // or { accepted: false, msg }
  }),
});
const payoutStatus = sdk.createPayoutStatusHandler({
  tokens: [token],
  lookup(payoutNo) {
    const payout = payouts.get(payoutNo); // undefined: answered as payout_not_found
    return payout ? { ...payout, transactionId: `po-${payoutNo}` } : null;
  },
});
const payoutRequest = sdk.toNodeHandler(api4);
const payoutStatusQuery = sdk.toNodeHandler(payoutStatus);

createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", base);
  if (url.pathname === "/pay/url") return payUrl(req, res);
  if (url.pathname === "/pay/status") return payStatus(req, res);
  if (url.pathname === "/payout/request") return payoutRequest(req, res);
  if (url.pathname === "/payout/status") return payoutStatusQuery(req, res);
  const order = orders.get(url.searchParams.get("order") ?? "");
  if (url.pathname !== "/checkout" || !order) return void res.writeHead(404).end();
  res.setHeader("content-type", "text/html; charset=utf-8");
  const label = `Pay ${esc(order.amount)} ${esc(order.currency)}`;
  if (req.method === "GET") return void res.end(`<form method="post"><button>${label}</button></form>`);
  const result = await settle(order, "success");
  res.end(result.kind === "done" ? "Paid: you can close this tab." : `Not confirmed (${result.kind}).`);
}).listen(Number(process.env.PORT ?? 4200), "127.0.0.1");
