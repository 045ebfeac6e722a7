import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@psphub/protocol";

/**
 * A tenant backend for API-3 on loopback that never calls back: every `/pay/status` query of a
 * known merchant is answered as paid (the order's API-2 success body, signed with the token), so
 * only a status query can settle an order. R9 and B5 use it; `delayMs` spreads the answers over
 * time, so a kill can land while queries are in flight.
 */
export type StatusStub = {
  url: string;
  /** Queries answered, by order number. */
  queries: Map<string, number>;
  close(): Promise<void>;
};

export async function startStatusStub(opts: {
  merchantId: string;
  token: string;
  amountText: string;
  currency: string;
  delayMs?: number;
}): Promise<StatusStub> {
  const queries = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let orderNo = "";
      try {
        orderNo = String(
          (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { order_no?: unknown }).order_no,
        );
      } catch {
        res.writeHead(400).end();
        return;
      }
      queries.set(orderNo, (queries.get(orderNo) ?? 0) + 1);
      const params = {
        merchant_id: opts.merchantId,
        order_no: orderNo,
        amount: Number(opts.amountText),
        currency: opts.currency,
        status: 1,
        time: 1_767_225_600_000,
        transaction_id: `tx-${orderNo}`,
      };
      const signature = sign(params, opts.token, { literals: { amount: opts.amountText } });
      const data = `{"merchant_id":${JSON.stringify(opts.merchantId)},"order_no":${JSON.stringify(orderNo)},"amount":${opts.amountText},"currency":${JSON.stringify(opts.currency)},"status":1,"time":1767225600000,"transaction_id":${JSON.stringify(`tx-${orderNo}`)},"sign":${JSON.stringify(signature)}}`;
      const body = `{"result":true,"msg":"","data":${data}}`;
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(body);
      }, opts.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
