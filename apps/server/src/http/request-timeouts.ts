import type { ServerOptions } from "node:http";
import { PassThrough } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/config.js";
import { RequestTimeoutError } from "../shared/errors.js";

/**
 * How long a client may take to send a request (issue 14 item 14: slow-drip connections held
 * the server's sockets and requests for minutes). Three limits, all on RECEIVING the request;
 * none applies to the answer, so live status streams (SSE) and slow API-1 calls are never cut:
 * - headers: Node's `headersTimeout`, from the first byte to the end of the headers;
 * - body: from the end of the headers to the end of the body (`registerBodyTimeout`);
 * - whole request: Node's `requestTimeout` (Fastify's option), headers and body together.
 * Node answers 408 to the first and the last and closes the connection; the body timeout answers
 * 408 through the route's error handler and closes the connection after it.
 */
export type RequestTimeouts = Pick<Config, "headersTimeoutMs" | "bodyTimeoutMs" | "requestTimeoutMs">;

/**
 * Fastify's server options. Node enforces `headersTimeout` and `requestTimeout` by sweeping its
 * connections every `connectionsCheckingInterval` (30 s by default, which would let a slow
 * client run up to twice its limit), so the sweep runs at a quarter of the shorter limit.
 */
export function serverTimeoutOptions(t: RequestTimeouts): { requestTimeout: number; http: ServerOptions } {
  const sweep = Math.max(
    250,
    Math.min(30_000, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 4)),
  );
  return {
    requestTimeout: t.requestTimeoutMs,
    http: {
      headersTimeout: t.headersTimeoutMs,
      requestTimeout: t.requestTimeoutMs,
      connectionsCheckingInterval: sweep,
    },
  };
}

/**
 * Cuts a body that has not fully arrived `bodyTimeoutMs` after its headers: the body parser gets
 * a RequestTimeoutError (408, so the handler never runs) and the connection is closed after the
 * answer, instead of being kept alive for the rest of the drip.
 */
export function registerBodyTimeout(app: FastifyInstance, bodyTimeoutMs: number): void {
  app.addHook("preParsing", async (req, reply, payload) => {
    const headers = req.headers;
    const hasBody =
      headers["transfer-encoding"] !== undefined ||
      (headers["content-length"] !== undefined && headers["content-length"] !== "0");
    if (!hasBody) return payload;
    const guarded = new PassThrough();
    // Fastify's body reader listens for errors; this one keeps a timeout that fires after the
    // route stopped reading (a handler that ignores its body) from being an uncaught error.
    guarded.on("error", () => {});
    let ended = false;
    const timer = setTimeout(() => {
      if (ended) return;
      payload.unpipe(guarded);
      // Node then sends `Connection: close` and closes the socket once the answer is written.
      reply.raw.shouldKeepAlive = false;
      reply.header("connection", "close");
      guarded.destroy(new RequestTimeoutError());
    }, bodyTimeoutMs);
    timer.unref();
    const done = () => {
      ended = true;
      clearTimeout(timer);
    };
    payload.once("end", done);
    payload.once("error", done);
    payload.once("close", done);
    reply.raw.once("close", done);
    payload.pipe(guarded);
    return guarded;
  });
}
