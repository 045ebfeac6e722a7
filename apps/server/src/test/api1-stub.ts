import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "@psphub/protocol";

/**
 * TEST HELPER (not used by the server): a real tenant backend for API-1 on loopback. It checks
 * the `crm-pay-token` header and the signature over the raw body exactly as a tenant would,
 * records every request, and answers as the test tells it (success by default).
 */
export type StubRequest = {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  json: Record<string, unknown> | null;
  tokenOk: boolean;
  signOk: boolean;
};

export type StubAnswer =
  | { status?: number; body?: string; headers?: Record<string, string> }
  /** Never answer (the CRM's timeout must end it). */
  | { hang: true };

export type Api1Stub = {
  /** APP_URL of this backend (no trailing slash). */
  url: string;
  port: number;
  /** The token the stub expects; set it once the fixture generated one. */
  token: string;
  requests: StubRequest[];
  /** How to answer; default: success with https://pay.example.com/p/<order_no>. */
  respond: (req: StubRequest) => StubAnswer;
  /** Holds every answer until the returned function is called. `arrived` resolves on the next request. */
  hold(): { release(): void; arrived: Promise<StubRequest> };
  close(): Promise<void>;
};

export const successAnswer = (req: StubRequest): StubAnswer => {
  const orderNo = String(req.json?.order_no ?? req.json?.orderId ?? "x");
  return {
    status: 200,
    body: JSON.stringify({ data: { url: `https://pay.example.com/p/${orderNo}` }, result: true, msg: "" }),
    headers: { "content-type": "application/json" },
  };
};

export async function startApi1Stub(): Promise<Api1Stub> {
  let gate: Promise<void> | null = null;
  let onArrive: ((r: StubRequest) => void) | null = null;
  const hanging = new Set<ServerResponse>();
  const stub: Api1Stub = {
    url: "",
    port: 0,
    token: "",
    requests: [],
    respond: successAnswer,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((r) => {
        release = () => {
          gate = null;
          r();
        };
      });
      const arrived = new Promise<StubRequest>((r) => {
        onArrive = r;
      });
      return { release, arrived };
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      let json: Record<string, unknown> | null = null;
      let signOk = false;
      try {
        json = JSON.parse(rawBody);
        signOk = verify(rawBody, stub.token);
      } catch {
        signOk = false;
      }
      const rec: StubRequest = {
        path: req.url ?? "",
        headers: req.headers,
        rawBody,
        json,
        tokenOk: req.headers["crm-pay-token"] === stub.token,
        signOk,
      };
      stub.requests.push(rec);
      const arrive = onArrive;
      onArrive = null;
      arrive?.(rec);
      if (gate) await gate;
      const answer = stub.respond(rec);
      if ("hang" in answer) {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status ?? 200, answer.headers ?? {});
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  stub.port = (server.address() as AddressInfo).port;
  stub.url = `http://127.0.0.1:${stub.port}`;
  return stub;
}
