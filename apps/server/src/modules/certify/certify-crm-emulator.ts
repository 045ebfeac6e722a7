import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { callbackErrorBody, PAYOUT_CALLBACK_PATH } from "@psphub/protocol";
import { safeEqual } from "../../infra/crypto/hashing.js";
import {
  answerBody,
  type CertifyInbox,
  type ExpectedOrder,
  MAX_KEPT_BODY,
  MAX_KEPT_PER_ORDER,
  type ReceivedCallback,
  readLoose,
  scriptedAnswer,
  type TokenMatch,
} from "./certify-inbox.js";

/**
 * The CRM's API-2 and API-5 endpoints as `psphub certify` plays them on the command line: a small
 * HTTP listener the developer points the backend's CRM_Callback_URL at. Any POST path is taken
 * (the backend appends `/pay/callback` to what it was given); a path ending in `/payout/callback`
 * is API-5, whose body names its test payout by `payout_no`, every other one API-2 (`order_no`).
 * Only callbacks of the run's test orders and payouts are kept, the rest are answered
 * `payment_not_found` as the CRM would.
 */

export type CrmEmulator = {
  /** The base URL to give the backend as CRM_Callback_URL. */
  url: string;
  inbox: CertifyInbox;
  close(): Promise<void>;
};

export type CrmEmulatorOptions = {
  port: number;
  host: string;
  token: string;
  previousToken?: string;
  now: () => number;
};

const BODY_LIMIT = 64 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Which token a header is, compared in constant time against both. */
export function tokenMatch(
  header: string | string[] | undefined,
  current: string,
  previous?: string,
): TokenMatch {
  const given = typeof header === "string" ? header : "";
  const isCurrent = safeEqual(given, current);
  const isPrevious = previous !== undefined && previous !== "" && safeEqual(given, previous);
  return isCurrent ? "current" : isPrevious ? "previous" : "none";
}

export async function startCrmEmulator(options: CrmEmulatorOptions): Promise<CrmEmulator> {
  const orders = new Map<string, { order: ExpectedOrder; calls: ReceivedCallback[]; count: number }>();
  const inbox: CertifyInbox = {
    async expect(order) {
      orders.set(order.orderNo, { order, calls: [], count: 0 });
    },
    async received(orderNo) {
      return [...(orders.get(orderNo)?.calls ?? [])];
    },
  };

  const server = createServer(async (req, res) => {
    const send = (status: number, body: string) =>
      res.writeHead(status, body ? { "content-type": "application/json" } : {}).end(body);
    try {
      if (req.method !== "POST") return send(405, "");
      const rawBody = await readBody(req);
      if (rawBody === undefined) return send(413, JSON.stringify(callbackErrorBody("request_too_large")));
      const contentType =
        typeof req.headers["content-type"] === "string" ? req.headers["content-type"] : null;
      const params = readLoose(rawBody, contentType)?.params;
      const path = new URL(req.url ?? "/", "http://crm.invalid").pathname.replace(/\/+$/, "");
      const idKey = path.endsWith(PAYOUT_CALLBACK_PATH) ? "payout_no" : "order_no";
      const entry = orders.get(String(params?.[idKey] ?? ""));
      if (!entry)
        return send(
          400,
          JSON.stringify(callbackErrorBody("payment_not_found", "not a test order of this run")),
        );
      const token = tokenMatch(req.headers["crm-pay-token"], options.token, options.previousToken);
      const scripted = scriptedAnswer(entry.order, entry.count, params, token);
      const answer = { status: scripted.status, body: answerBody(scripted) };
      entry.count++;
      if (entry.calls.length < MAX_KEPT_PER_ORDER)
        entry.calls.push({
          at: options.now(),
          rawBody: rawBody.slice(0, MAX_KEPT_BODY),
          contentType,
          token,
          answer,
        });
      send(answer.status, answer.body);
    } catch {
      send(500, JSON.stringify(callbackErrorBody("internal_error")));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : host;
  return {
    url: `http://${shownHost}:${port}/api/psp`,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
