import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `false` on a route that answers machines only (API-2): no browser security headers. They
     * protect nothing there and cost a measurable part of a callback (bench B1).
     */
    securityHeaders?: false;
  }
}

export type SecurityHeaders = {
  /** Headers to set, in helmet's order. */
  set: ReadonlyArray<readonly [name: string, value: string]>;
  /** Headers helmet removes (X-Powered-By). */
  remove: readonly string[];
};

/**
 * What helmet does to a response for these options, worked out once. Helmet builds and checks
 * the whole policy in `helmet(options)` and then writes the same text on every response (as long
 * as no directive is a per-request function, which this app never uses; it is refused here).
 * @fastify/helmet called `helmet(options)` again for every request: parsing the CSP directives
 * was a fifth of a bare route's CPU (bench profile of GET /healthz).
 */
export function computeSecurityHeaders(options: HelmetOptions): SecurityHeaders {
  const set: [string, string][] = [];
  const remove: string[] = [];
  const res = {
    setHeader(name: string, value: unknown) {
      set.push([name, String(value)]);
      return res;
    },
    removeHeader(name: string) {
      remove.push(name);
    },
  };
  for (const d of Object.values(
    (typeof options.contentSecurityPolicy === "object" && options.contentSecurityPolicy.directives) || {},
  )) {
    const values = Array.isArray(d) ? d : [d];
    if (values.some((v) => typeof v === "function")) {
      throw new Error("security headers are computed once: a CSP directive may not be a function");
    }
  }
  let failed: unknown;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    failed = err;
  });
  if (failed) throw failed instanceof Error ? failed : new Error(String(failed));
  return { set, remove };
}

/**
 * Sets the security headers on every response, except on routes with
 * `config: { securityHeaders: false }`. Set at onRequest, so a route (or an error answer) can
 * still replace one, e.g. a page with its own CSP.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const { set, remove } = computeSecurityHeaders(options);
  app.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.config.securityHeaders !== false) {
      for (const [name, value] of set) reply.header(name, value);
      for (const name of remove) reply.raw.removeHeader(name);
    }
    done();
  });
}
