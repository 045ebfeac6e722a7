import type { ServerOptions } from "node:http";
import type { FastifyInstance } from "fastify";
import { RequestTimeoutError } from "../common/errors.js";
import type { Config } from "../config/config.js";

/**
 * How long a client may take to send a request, so that slow-drip connections cannot hold the
 * server's sockets and requests for minutes. Three limits, all on RECEIVING the request;
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
 * Cuts a body that has not fully arrived `bodyTimeoutMs` after its headers: Fastify's body
 * reader gets a RequestTimeoutError (408, so the handler never runs) and the connection is
 * closed after the answer, instead of being kept alive for the rest of the drip.
 *
 * On the hot path (every API-2 callback) this is one timer and one `end` listener per request
 * with a body: the body is not piped through another stream (that cost about 5 µs a callback).
 */
export function registerBodyTimeout(app: FastifyInstance, bodyTimeoutMs: number): void {
  app.addHook("preParsing", (req, reply, payload, done) => {
    const headers = req.headers;
    const hasBody =
      headers["transfer-encoding"] !== undefined ||
      (headers["content-length"] !== undefined && headers["content-length"] !== "0");
    if (!hasBody) return done(null, payload);
    const raw = req.raw;
    const timer = setTimeout(() => {
      payload.removeListener("end", finished);
      if (raw.complete || payload.destroyed || payload.readableEnded) return;
      // Node then sends `Connection: close` and closes the socket once the answer is written.
      reply.raw.shouldKeepAlive = false;
      reply.header("connection", "close");
      const err = new RequestTimeoutError();
      // Fastify's body reader listens for `error` while it reads; a route that does not read
      // its body has no listener, and there the request is simply dropped.
      if (payload.listenerCount("error") > 0) payload.emit("error", err);
      else payload.destroy();
    }, bodyTimeoutMs);
    timer.unref();
    const finished = () => clearTimeout(timer);
    payload.once("end", finished);
    done(null, payload);
  });
}
