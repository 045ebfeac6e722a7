import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signPayoutCallback, verify } from "@psphub/protocol";

/**
 * A tenant backend for payouts on loopback (docs/psp-open-api.md#payouts), as R11 needs it:
 * - `POST /payout/request` (API-4): takes every payout, idempotently by `payout_no` (a repeat
 *   answers the same `{"result":true,…,"data":{"transaction_id":"tx-<payout_no>"}}` and pays
 *   nothing again); the amount and currency of each payout are kept for the status answers.
 * - `POST /payout/status`: `status: "not_found"` answers `result: false, data.code:
 *   "payout_not_found"`; `"paid"` answers a payout taken by API-4 with its signed API-5 "paid"
 *   body (an unknown one still as not found). The backend never calls back by itself.
 * Every request's `crm-pay-token` and `sign` are checked; one that does not verify is counted in
 * `refused` and answered 401. `delayMs` holds every answer, so a kill can land while calls are
 * in flight.
 */
export type PayoutStub = {
  url: string;
  /** API-4 requests received, by payout_no. */
  requests: Map<string, number>;
  /** Payout status queries received, by payout_no. */
  queries: Map<string, number>;
  /** Requests whose token or sign did not verify (always 0 from the CRM). */
  refused: number;
  status: "not_found" | "paid";
  delayMs: number;
  close(): Promise<void>;
};

export async function startPayoutStub(opts: {
  merchantId: string;
  token: string;
  status?: "not_found" | "paid";
  delayMs?: number;
}): Promise<PayoutStub> {
  /** What API-4 asked to pay, by payout_no. */
  const taken = new Map<string, { amount: number; currency: string }>();
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    setTimeout(() => {
      res.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    }, stub.delayMs);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        stub.refused++;
        json(res, 400, { result: false, msg: "not JSON" });
        return;
      }
      let signed = false;
      try {
        signed = req.headers["crm-pay-token"] === opts.token && verify(raw, opts.token);
      } catch {
        signed = false;
      }
      if (!signed || body.merchant_id !== opts.merchantId) {
        stub.refused++;
        json(res, 401, { result: false, msg: "token or sign" });
        return;
      }
      const payoutNo = String(body.payout_no);
      if (req.method === "POST" && req.url === "/payout/request") {
        stub.requests.set(payoutNo, (stub.requests.get(payoutNo) ?? 0) + 1);
        if (!taken.has(payoutNo))
          taken.set(payoutNo, { amount: Number(body.amount), currency: String(body.currency) });
        json(res, 200, { result: true, msg: "", data: { transaction_id: `tx-${payoutNo}` } });
        return;
      }
      if (req.method === "POST" && req.url === "/payout/status") {
        stub.queries.set(payoutNo, (stub.queries.get(payoutNo) ?? 0) + 1);
        const p = taken.get(payoutNo);
        if (stub.status === "not_found" || !p) {
          json(res, 200, { result: false, msg: "", data: { code: "payout_not_found" } });
          return;
        }
        json(res, 200, {
          result: true,
          msg: "",
          data: signPayoutCallback(
            {
              merchantId: opts.merchantId,
              payoutNo,
              amount: p.amount,
              currency: p.currency,
              status: 1,
              time: 1_767_225_600_000,
              transactionId: `tx-${payoutNo}`,
            },
            opts.token,
          ),
        });
        return;
      }
      json(res, 404, { result: false, msg: "no such path" });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const stub: PayoutStub = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: new Map(),
    queries: new Map(),
    refused: 0,
    status: opts.status ?? "not_found",
    delayMs: opts.delayMs ?? 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return stub;
}
