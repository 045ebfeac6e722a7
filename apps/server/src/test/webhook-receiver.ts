import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { webhookSignatures } from "@psphub/protocol";

/**
 * TEST HELPER (not used by the server): a webhook receiver on loopback that records every
 * request as received (raw body, headers) and answers as the test tells it (200 by default).
 */
export type ReceivedWebhook = {
  headers: IncomingHttpHeaders;
  body: string;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
};

export type WebhookAnswer = { status: number; headers?: Record<string, string>; body?: string };

export type WebhookReceiver = {
  url: string;
  received: ReceivedWebhook[];
  respond: (w: ReceivedWebhook) => WebhookAnswer;
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const rx: WebhookReceiver = {
    url: "",
    received: [],
    respond: () => ({ status: 200, body: "ok" }),
    close: async () => {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const w: ReceivedWebhook = { headers: req.headers, body, json: JSON.parse(body) };
      rx.received.push(w);
      const a = rx.respond(w);
      res.writeHead(a.status, { "content-type": "text/plain", ...a.headers });
      res.end(a.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  rx.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return rx;
}

/** Whether a received webhook's `webhook-signature` holds a v1 signature made with `secret`. */
export async function signedWith(
  w: Pick<ReceivedWebhook, "headers" | "body">,
  secret: string,
): Promise<boolean> {
  const [sig] = await webhookSignatures(
    { id: String(w.headers["webhook-id"]), timestamp: Number(w.headers["webhook-timestamp"]), body: w.body },
    secret,
  );
  return String(w.headers["webhook-signature"]).split(" ").includes(`v1,${sig}`);
}
