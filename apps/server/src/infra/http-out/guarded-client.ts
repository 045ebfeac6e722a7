import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import { Agent, request } from "undici";
import { type AddressVerdict, checkAddress, literalAddress } from "./address-policy.js";

/**
 * The SSRF-guarded outbound HTTP client for tenant-configured URLs (docs/psp-open-api.md#app-url-rules,
 * docs/failure-modes.md#failure-mode-14):
 *
 * - a host name is resolved by the socket's own `lookup`, every address is checked against the
 *   address policy, and the socket connects to exactly the address that was checked, so DNS
 *   that changes between a check and the connect (rebinding) gains nothing;
 * - an IP literal never reaches `lookup`, so literal hosts are checked before the request;
 * - redirects are never followed: a 3xx is just an answer with that status;
 * - connect, headers and body timeouts are all bounded by the call's timeout, and an overall
 *   timer aborts whatever is still running when it expires;
 * - the response body is read up to a cap (64 KiB by default) and the request is aborted beyond.
 *
 * It never throws for anything the remote side does: every outcome is a typed result.
 */

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has (injectable, so tests need no real DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export type GuardedFailureReason =
  | "timeout"
  | "connection_refused"
  | "blocked_address"
  | "dns_failure"
  | "too_large"
  | "network_error";

export type GuardedResponse =
  | { ok: true; status: number; headers: Record<string, string>; bodyText: string; latencyMs: number }
  | { ok: false; reason: GuardedFailureReason; detail: string; latencyMs: number };

export interface GuardedRequest {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Bounds connect, response headers, body and the whole call. */
  timeoutMs: number;
  /** Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

export interface GuardedClient {
  request(req: GuardedRequest): Promise<GuardedResponse>;
  /** Closes the pooled connections. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const MIN_TIMEOUT_MS = 1;
const MAX_TIMEOUT_MS = 120_000;

/** Raised inside the socket's lookup when an address is refused; classified as `blocked_address`. */
export class BlockedAddressError extends Error {
  readonly code = "E_PSPHUB_BLOCKED_ADDRESS";
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    super(`${host} resolves to ${address} (${range}), which is not allowed`);
    this.name = "BlockedAddressError";
  }
}

/** Raised inside the socket's lookup when the name does not resolve; classified as `dns_failure`. */
export class DnsFailureError extends Error {
  readonly code = "E_PSPHUB_DNS_FAILURE";
  constructor(
    readonly host: string,
    readonly causeCode: string | undefined,
  ) {
    super(`${host} could not be resolved${causeCode ? ` (${causeCode})` : ""}`);
    this.name = "DnsFailureError";
  }
}

class CallTimeoutError extends Error {
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = "CallTimeoutError";
  }
}

class TooLargeError extends Error {
  constructor(limit: number) {
    super(`the response body exceeds ${limit} bytes`);
    this.name = "TooLargeError";
  }
}

const systemResolver: Resolver = async (hostname) => {
  const all = await dnsLookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * The `lookup` given to net/tls.connect: resolves, refuses the whole name when ANY of its
 * addresses is outside the policy (the save-time check does the same), and hands the socket
 * only checked addresses.
 */
export function guardedLookup(resolve: Resolver, allowPrivate: boolean): LookupFunction {
  type Callback = (err: Error | null, address?: string | ResolvedAddress[], family?: number) => void;
  return ((hostname: string, options: { family?: number | string; all?: boolean }, callback: Callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) return callback(new DnsFailureError(hostname, "ENODATA"));
        for (const a of addresses) {
          const verdict = checkAddress(a.address, allowPrivate);
          if (!verdict.allowed) return callback(new BlockedAddressError(hostname, a.address, verdict.range));
        }
        const family =
          options?.family === 4 || options?.family === "IPv4"
            ? 4
            : options?.family === 6 || options?.family === "IPv6"
              ? 6
              : 0;
        const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
        if (usable.length === 0) return callback(new DnsFailureError(hostname, "ENODATA"));
        if (options?.all) return callback(null, usable);
        const first = usable[0]!;
        return callback(null, first.address, first.family);
      },
      (err: unknown) => callback(new DnsFailureError(hostname, (err as { code?: string } | null)?.code)),
    );
  }) as unknown as LookupFunction;
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  return undefined;
}

/** Maps whatever undici, net or our guards threw to a reason and a short detail (no secrets in it). */
export function classifyError(err: unknown): { reason: GuardedFailureReason; detail: string } {
  const e = err as { name?: string; message?: string; cause?: unknown } | null;
  const message = String(e?.message ?? err).slice(0, 300);
  if (err instanceof BlockedAddressError || e?.cause instanceof BlockedAddressError)
    return { reason: "blocked_address", detail: message };
  if (err instanceof DnsFailureError || e?.cause instanceof DnsFailureError)
    return { reason: "dns_failure", detail: message };
  if (err instanceof TooLargeError) return { reason: "too_large", detail: message };
  if (err instanceof CallTimeoutError || e?.cause instanceof CallTimeoutError)
    return { reason: "timeout", detail: message };
  const code = errorCode(err);
  switch (code) {
    case "E_PSPHUB_BLOCKED_ADDRESS":
      return { reason: "blocked_address", detail: message };
    case "E_PSPHUB_DNS_FAILURE":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { reason: "dns_failure", detail: message };
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return { reason: "timeout", detail: message };
    case "ECONNREFUSED":
      return { reason: "connection_refused", detail: message };
  }
  if (e?.name === "TimeoutError") return { reason: "timeout", detail: message };
  return { reason: "network_error", detail: code ? `${code}: ${message}` : message };
}

function clampTimeout(ms: number): number {
  if (!Number.isFinite(ms)) return MAX_TIMEOUT_MS;
  return Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, Math.round(ms)));
}

/** Most host names whose literal-address verdict a client keeps. */
const LITERAL_VERDICTS_MAX = 1_000;

export function createGuardedClient(opts: { allowPrivate: boolean; lookup?: Resolver }): GuardedClient {
  const lookup = guardedLookup(opts.lookup ?? systemResolver, opts.allowPrivate);
  // The verdict on a host that is an IP literal is a pure function of the host text (and of
  // allowPrivate, fixed per client): parsed and checked once per host, not on every call.
  // Names are not kept here: they are resolved and checked at connect time, every time.
  const literalVerdicts = new Map<string, { literal: string; verdict: AddressVerdict } | null>();
  const literalVerdict = (hostname: string) => {
    let v = literalVerdicts.get(hostname);
    if (v === undefined) {
      const literal = literalAddress(hostname);
      v = literal === undefined ? null : { literal, verdict: checkAddress(literal, opts.allowPrivate) };
      if (literalVerdicts.size >= LITERAL_VERDICTS_MAX) literalVerdicts.clear();
      literalVerdicts.set(hostname, v);
    }
    return v;
  };
  // Connect timeouts are per Agent in undici, so one Agent per distinct timeout (integrations
  // configure a handful of values); each keeps its own small keep-alive pool.
  const agents = new Map<number, Agent>();
  const agentFor = (timeoutMs: number): Agent => {
    let agent = agents.get(timeoutMs);
    if (!agent) {
      agent = new Agent({
        connect: { timeout: timeoutMs, lookup },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        keepAliveTimeout: 4_000,
        connections: 16,
      });
      agents.set(timeoutMs, agent);
    }
    return agent;
  };

  async function call(req: GuardedRequest): Promise<GuardedResponse> {
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const fail = (reason: GuardedFailureReason, detail: string): GuardedResponse => ({
      ok: false,
      reason,
      detail,
      latencyMs: latency(),
    });

    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail("network_error", "the URL is not absolute");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      return fail("network_error", `the scheme ${url.protocol} is not supported`);
    const literal = literalVerdict(url.hostname);
    if (literal !== null && !literal.verdict.allowed)
      return fail("blocked_address", `${literal.literal} (${literal.verdict.range}) is not allowed`);

    const timeoutMs = clampTimeout(req.timeoutMs);
    const maxBytes = req.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new CallTimeoutError(timeoutMs)), timeoutMs);
    try {
      const res = await request(url, {
        method: req.method ?? "GET",
        headers: req.headers,
        body: req.body,
        dispatcher: agentFor(timeoutMs),
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const headers = flattenHeaders(res.headers as Record<string, string | string[] | undefined>);
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.body.destroy();
        return fail("too_large", `content-length ${declared} exceeds ${maxBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBytes) {
          controller.abort(new TooLargeError(maxBytes));
          res.body.destroy();
          return fail("too_large", `the response body exceeds ${maxBytes} bytes`);
        }
        chunks.push(buf);
      }
      return {
        ok: true,
        status: res.statusCode,
        headers,
        bodyText: Buffer.concat(chunks).toString("utf8"),
        latencyMs: latency(),
      };
    } catch (err) {
      // After our timer fired, whatever undici throws is a consequence of that abort.
      const c = classifyError(controller.signal.aborted ? controller.signal.reason : err);
      return fail(c.reason, c.detail);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    request: call,
    async close() {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((a) => a.close().catch(() => undefined)));
    },
  };
}
