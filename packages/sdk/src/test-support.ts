// Helpers for this package's tests (not exported from the package).
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@psphub/protocol";
import {
  type Api1ParamConfig,
  type Api1Values,
  defaultApi1ParamConfig,
  toConfiguredKeys,
} from "@psphub/protocol/admin";

export const TOKEN = "9f2c4e7a1b3d5f60718293a4b5c6d7e8";

/** A signed API-1 body as the CRM writes it: configured keys, JSON numbers, `sign` last. */
export function signedApi1Body(
  values: Api1Values,
  token: string = TOKEN,
  config: Api1ParamConfig = defaultApi1ParamConfig(),
): string {
  const wire = toConfiguredKeys(values, config);
  return JSON.stringify({ ...wire, sign: sign(wire, token) });
}

/** Puts `"sign":"<sign>"` into raw JSON text without re-serialising it (keeps `100.0`). */
export function withSign(rawBody: string, signature: string): string {
  return `${rawBody.slice(0, rawBody.lastIndexOf("}"))},"sign":"${signature}"}`;
}

export const SAMPLE_ORDER: Api1Values = {
  named: {
    merchant_id: "0123456789abcdef0123456789abcdef",
    order_no: "ord-1",
    amount: 162.48,
    currency: "USD",
    user_id: "u1",
    email: "jane@example.com",
  },
};

/** Starts a node:http server on loopback; `close` ends it with every connection. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads a whole request body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const { server, close } = await listen(() => {});
  const { port } = server.address() as AddressInfo;
  await close();
  return port;
}
