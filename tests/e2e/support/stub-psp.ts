import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type FlatParams, formatAmountNumber, parseAmount, sign, verify } from "@psphub/protocol";

/**
 * A tenant backend on loopback for the browser tests. API-1 (`POST /pay/url`) answers with a
 * payment page it serves itself; that page's Pay button makes the stub send a signed API-2
 * callback to the CRM, as a real PSP would after taking the money, and its Decline button a
 * failure callback (status 0), as a PSP would after the bank refused the card.
 *
 * `mode` picks the API-1 answer: a payment page, a refusal with a message, a `javascript:` URL
 * (which the CRM and the portal must never open), or a 401 carrying the backend's own error
 * text (which the client must never read). The page's "Pay another amount" button reports a
 * success for 1.00 more than the order (a payment the CRM holds for review).
 */
export type StubMode = "ok" | "fail" | "javascript" | "unauthorized";

/** What the stub answers API-1 with in `unauthorized` mode (HTTP 401). */
export const STUB_UNAUTHORIZED_MESSAGE = "invalid crm-pay-token";

export interface Api1Call {
  token: string;
  body: Record<string, unknown>;
  signatureValid: boolean;
}

export interface StubPsp {
  url: string;
  mode: StubMode;
  api1Calls: Api1Call[];
  callbacks: { orderNo: string; httpStatus: number; body: string }[];
  setCrmUrl(url: string): void;
  close(): Promise<void>;
}

export const STUB_FAILURE_MESSAGE = "Card payments are down for maintenance";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:12px;padding:1.25rem}button{font-size:1rem;padding:.7rem 1.5rem;
border:0;border-radius:8px;background:#2d6a4f;color:#fff;cursor:pointer;width:100%}dt{color:#666;font-size:.85rem}
dd{margin:0 0 .6rem 0;font-weight:600}</style></head><body>${body}</body></html>`;
}

export async function startStubPsp(): Promise<StubPsp> {
  let crmUrl = "";
  const orders = new Map<string, Api1Call>();
  const stub: StubPsp = {
    url: "",
    mode: "ok",
    api1Calls: [],
    callbacks: [],
    setCrmUrl: (u) => {
      crmUrl = u;
    },
    close: async () => {},
  };

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", stub.url);
      if (req.method === "POST" && url.pathname === "/pay/url") {
        const token = String(req.headers["crm-pay-token"] ?? "");
        const raw = await readBody(req);
        const body = JSON.parse(raw) as Record<string, unknown>;
        // Verified over the raw body, as a real tenant backend must (literal numbers).
        const call: Api1Call = { token, body, signatureValid: verify(raw, token) };
        stub.api1Calls.push(call);
        const orderNo = String(body.order_no);
        orders.set(orderNo, call);
        if (!call.signatureValid) {
          return send(
            res,
            200,
            "application/json",
            JSON.stringify({ data: null, result: false, msg: "bad sign" }),
          );
        }
        if (stub.mode === "unauthorized") {
          return send(
            res,
            401,
            "application/json",
            JSON.stringify({ data: null, result: false, msg: STUB_UNAUTHORIZED_MESSAGE }),
          );
        }
        if (stub.mode === "fail") {
          return send(
            res,
            200,
            "application/json",
            JSON.stringify({ data: null, result: false, msg: STUB_FAILURE_MESSAGE }),
          );
        }
        const payUrl =
          stub.mode === "javascript"
            ? "javascript:alert(document.domain)"
            : `${stub.url}/pay/page/${orderNo}`;
        return send(
          res,
          200,
          "application/json",
          JSON.stringify({ data: { url: payUrl }, result: true, msg: "" }),
        );
      }

      const pageMatch = /^\/pay\/page\/([^/]+)(\/pay|\/decline|\/pay-other)?$/.exec(url.pathname);
      if (pageMatch) {
        const orderNo = decodeURIComponent(pageMatch[1]!);
        const call = orders.get(orderNo);
        if (!call) return send(res, 404, "text/html", page("Unknown order", "<h1>Unknown order</h1>"));
        const b = call.body;
        if (req.method === "GET" && !pageMatch[2]) {
          const custom = Object.entries(b)
            .filter(([k]) => k.startsWith("custom_"))
            .map(([k, v]) => `<dt>${esc(k)}</dt><dd data-key="${esc(k)}">${esc(String(v))}</dd>`)
            .join("");
          return send(
            res,
            200,
            "text/html; charset=utf-8",
            page(
              "Stub PSP payment",
              `<div class="card"><h1>Stub PSP</h1><dl><dt>Order</dt><dd id="order">${esc(orderNo)}</dd>
<dt>Amount</dt><dd id="amount">${esc(String(b.amount))} ${esc(String(b.currency))}</dd>${custom}</dl>
<form method="post" action="/pay/page/${encodeURIComponent(orderNo)}/pay"><button type="submit">Pay</button></form>
<form method="post" action="/pay/page/${encodeURIComponent(orderNo)}/decline" style="margin-top:.5rem">
<button type="submit" style="background:#9b2226">Decline</button></form>
<form method="post" action="/pay/page/${encodeURIComponent(orderNo)}/pay-other" style="margin-top:.5rem">
<button type="submit" style="background:#555">Pay another amount</button></form></div>`,
            ),
          );
        }
        if (req.method === "POST" && pageMatch[2]) {
          // The PSP took the money (or the bank refused it): tell the CRM (API-2), signed
          // with the integration's token.
          const declined = pageMatch[2] === "/decline";
          // 1.00 more than ordered, in minor units (USD): an amount the CRM holds for review.
          const amount =
            pageMatch[2] === "/pay-other"
              ? Number(formatAmountNumber(parseAmount(String(b.amount), 2) + 100n, 2))
              : (b.amount as number);
          const params: FlatParams = {
            merchant_id: String(b.merchant_id),
            order_no: orderNo,
            transaction_id: `stub-${orderNo}`,
            amount,
            currency: String(b.currency),
            time: Date.now(),
            status: declined ? 0 : 1,
          };
          if (b.user_id) params.user_id = String(b.user_id);
          const payload = JSON.stringify({ ...params, sign: sign(params, call.token) });
          const r = await fetch(`${crmUrl}/api/psp/pay/callback`, {
            method: "POST",
            headers: { "content-type": "application/json", "crm-pay-token": call.token },
            body: payload,
          });
          const text = await r.text();
          stub.callbacks.push({ orderNo, httpStatus: r.status, body: text });
          return send(
            res,
            200,
            "text/html; charset=utf-8",
            page(
              "Payment sent",
              `<div class="card"><h1 id="result">${r.status !== 204 ? "Callback refused" : declined ? "Payment declined" : "Payment complete"}</h1>
<p>The CRM answered HTTP ${r.status}. You can close this tab.</p></div>`,
            ),
          );
        }
      }
      send(res, 404, "text/plain", "not found");
    })().catch((err: unknown) => {
      send(res, 500, "text/plain", String(err));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
