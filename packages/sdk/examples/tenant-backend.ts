// A complete tenant backend: API-1 on POST /pay/url, a one-button payment page, API-2 after paying.
import { createServer } from "node:http";
import {
  buildCallback,
  createApi1Handler,
  type PaymentRequest,
  sendCallback,
  toNodeHandler,
} from "@psphub/sdk";

const token = process.env.PSP_TOKEN ?? ""; // the integration's token (back office, eye icon)
const crmCallbackUrl = process.env.CRM_CALLBACK_URL ?? ""; // CRM_Callback_URL (back office)
const publicUrl = process.env.PUBLIC_URL ?? "http://127.0.0.1:4200";
const orders = new Map<string, PaymentRequest>();
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const payUrl = toNodeHandler(
  createApi1Handler({
    tokens: [token], // during a token rotation: [newToken, oldToken]
    onPaymentRequest(req) {
      orders.set(req.orderNo, req); // the same order_no again gets the same page
      return { url: `${publicUrl}/checkout?order=${encodeURIComponent(req.orderNo)}` };
    },
  }),
);

createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", publicUrl);
  if (url.pathname === "/pay/url") return payUrl(req, res);
  const order = orders.get(url.searchParams.get("order") ?? "");
  if (url.pathname !== "/checkout" || !order) return void res.writeHead(404).end();
  res.setHeader("content-type", "text/html; charset=utf-8");
  if (req.method === "GET") {
    return void res.end(
      `<form method="post"><button>Pay ${esc(order.amount)} ${esc(order.currency)}</button></form>`,
    );
  }
  // The money moved: tell the CRM. Network errors and 5xx are retried for up to 10 minutes.
  const result = await sendCallback({
    callbackUrl: crmCallbackUrl,
    token,
    callback: buildCallback(order, { status: "success", transactionId: `tx-${Date.now()}` }),
    deadlineMs: 10 * 60_000,
  });
  res.end(result.kind === "done" ? "Paid: you can close this tab." : `Not confirmed (${result.kind}).`);
}).listen(Number(process.env.PORT ?? 4200), "127.0.0.1");
