import { parseApi1Response, parseFlatJson, stringA } from "@psphub/protocol";
import type { Api1ParamConfig } from "@psphub/protocol/admin";
import { TEST_ORDER_HEADER } from "@psphub/sdk";
import type { GuardedClient, GuardedResponse } from "../../infra/http-out/guarded-client.js";
import { type Api1Order, api1Url, buildApi1Request } from "../deposits/api1-request.js";
import type { CertifyInbox } from "./certify-inbox.js";

/**
 * What every case of the conformance suite (docs/certify.md) shares: the target, the report's
 * shapes, the run's dependencies and context, and the API-1 request helpers. The cases are in
 * certify-suite.ts (API-1, API-3), certify-api2-cases.ts (API-2, token rotation) and
 * certify-payout-cases.ts (API-4, API-5 and the payout status query, when asked for).
 */

export type CertifyTarget = {
  appUrl: string;
  merchantId: string;
  token: string;
  /** The integration's API-1 key configuration (default: the spec's keys). */
  paramConfig?: Api1ParamConfig;
  /** The integration's custom parameter keys, each sent with a test value. */
  customKeys?: readonly string[];
  /** Run the API-3 cases (the integration has status queries enabled). */
  statusQuery?: boolean;
  /** Accept http payment URLs (ALLOW_HTTP_PAYMENT_URLS, development only). */
  allowHttpUrls?: boolean;
  /** The token before a rotation, while its grace period lasts: the rotation case runs. */
  previousToken?: string;
  /** Run the payout cases (the backend takes payouts: API-4, API-5, the payout status query). */
  payouts?: boolean;
  /** The client's fields sent with the test payout (default `{ iban: "DE89370400440532013000" }`). */
  payoutFields?: Readonly<Record<string, string>>;
};

export type CaseVerdict = "passed" | "failed" | "skipped";
export type CaseApi = "API-1" | "API-2" | "API-3" | "API-4" | "API-5";

/**
 * One HTTP exchange of a case, as the report shows it (the token never appears): a request the
 * suite sent the backend, or (`from_backend`) a callback the backend sent and the suite's answer.
 */
export type Exchange = {
  direction?: "from_backend";
  request: { method: "POST"; url: string; headers: Record<string, string>; body: string; stringA?: string };
  response: { status: number; body: string; ms: number } | { error: string; ms: number };
};

export type CaseResult = {
  id: string;
  title: string;
  api: CaseApi;
  mandatory: boolean;
  verdict: CaseVerdict;
  /** Skipped because it does not apply to this integration (it then does not block certification). */
  notApplicable?: boolean;
  /** Why it failed or was skipped, or what was seen. */
  detail: string;
  /** What to change in the backend when it failed. */
  fix?: string;
  exchanges: Exchange[];
};

export type CertifyReport = {
  target: { appUrl: string; merchantId: string };
  startedAt: number;
  finishedAt: number;
  cases: CaseResult[];
  counts: Record<CaseVerdict, number>;
  /**
   * Every mandatory case passed, or was skipped because it does not apply (API-3 when off). A
   * case skipped for want of something (no callback listener) leaves the backend uncertified.
   */
  certified: boolean;
};

export type CertifyDeps = {
  http: GuardedClient;
  now: () => number;
  newOrderNo: () => string;
  /** API-1's time limit; default {@link API1_LATENCY_LIMIT_MS} (tests lower it). */
  latencyLimitMs?: number;
  /** Where the backend's callbacks arrive; without it the API-2 cases are skipped. */
  inbox?: CertifyInbox;
  /** How long the API-2 cases wait; defaults in {@link API2_WAITS} (tests lower them). */
  waits?: Partial<Api2Waits>;
  /**
   * No test hooks: the developer acts on each test order's payment page, told by `ask`, and the
   * suite waits `waitMs` for each order's first callback.
   */
  manual?: { ask(prompt: ManualPrompt): void; waitMs: number };
  sleep?: (ms: number) => Promise<void>;
};

export type Api2Waits = {
  /** For a test order's first callback, from the test hooks. */
  hookWaitMs: number;
  /** For the retry of a callback answered 500. */
  retryWaitMs: number;
  /** After a callback answered 400, for a repeat that must not come. */
  quietMs: number;
};

export const API2_WAITS: Api2Waits = { hookWaitMs: 20_000, retryWaitMs: 60_000, quietMs: 5_000 };

/** What the developer is asked to do on a test order's payment page (manual mode). */
export type ManualPrompt = { caseId: string; orderNo: string; url: string; action: string };

/** API-1 must answer within this (the CRM's default timeout is 10 s). */
export const API1_LATENCY_LIMIT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 15_000;

export type Context = {
  target: CertifyTarget;
  deps: CertifyDeps;
  config: Api1ParamConfig;
  /** An order the backend gave a URL for (API-3 asks about it). */
  knownOrder?: string;
  /** The API-2 test orders and their callbacks, gathered once by the first API-2 case. */
  api2?: Promise<unknown>;
  /** The test payout, its two API-4 answers and its API-5 callbacks, gathered once. */
  payouts?: Promise<unknown>;
};

export type Outcome = { verdict: CaseVerdict; detail: string; fix?: string; notApplicable?: boolean };
export type CaseSpec = {
  id: string;
  title: string;
  api: CaseApi;
  mandatory: boolean;
  run(ctx: Context, exchange: (e: Exchange) => void): Promise<Outcome>;
};

export const passed = (detail: string): Outcome => ({ verdict: "passed", detail });
export const failed = (detail: string, fix: string): Outcome => ({ verdict: "failed", detail, fix });
/** Skipped for want of something: the backend is not certified. */
export const skipped = (detail: string): Outcome => ({ verdict: "skipped", detail });
/** Skipped because the case does not apply to this integration. */
export const notApplicable = (detail: string): Outcome => ({
  verdict: "skipped",
  detail,
  notApplicable: true,
});

/** A test order (10.00 USD unless told) with every standard value and a value for each custom key. */
export function testOrder(ctx: Context, orderNo: string, amountMinor = 1000n): Api1Order {
  return {
    merchantId: ctx.target.merchantId,
    orderNo,
    amountMinor,
    decimals: 2,
    currency: "USD",
    userId: "certify1",
    userName: "Certify Test",
    email: "certify@psphub.test",
    phone: "+1 555 0100",
    nationality: "us",
    language: "en-us",
    device: "pc",
    custom: Object.fromEntries((ctx.target.customKeys ?? []).map((k) => [k, "CERTIFY"])),
  };
}

/** A signed API-1 request for a new test order, under the integration's keys. */
export const freshRequest = (ctx: Context) =>
  buildApi1Request(testOrder(ctx, ctx.deps.newOrderNo()), ctx.config, ctx.target.token);

/** Posts an API-1 body; the token header as given (or none), and the exchange recorded. */
export async function postApi1(
  ctx: Context,
  record: (e: Exchange) => void,
  body: string,
  token: string | null,
): Promise<GuardedResponse> {
  const url = api1Url(ctx.target.appUrl);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    [TEST_ORDER_HEADER]: "1",
    ...(token === null ? {} : { "crm-pay-token": token }),
  };
  const res = await ctx.deps.http.request({
    url,
    method: "POST",
    headers,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const shown = { ...headers, ...(token === null ? {} : { "crm-pay-token": "<token>" }) };
  let signedText: string | undefined;
  try {
    const { params, literals } = parseFlatJson(body);
    const { sign: _s, ...rest } = params;
    signedText = stringA(rest, { literals });
  } catch {
    signedText = undefined;
  }
  const sent = {
    method: "POST" as const,
    url,
    headers: shown,
    body,
    ...(signedText ? { stringA: signedText } : {}),
  };
  record(exchangeOf(ctx, sent, res));
  return res;
}

/** The report's record of one request and its answer, the token hidden in what came back. */
export function exchangeOf(ctx: Context, request: Exchange["request"], res: GuardedResponse): Exchange {
  const ms = Math.round(res.latencyMs);
  return {
    request,
    response: res.ok
      ? { status: res.status, body: hide(res.bodyText, ctx.target.token), ms }
      : { error: `${res.reason}: ${res.detail}`, ms },
  };
}

export const hide = (text: string, token: string) => (token ? text.split(token).join("<token>") : text);

/** The payment URL of a well-formed answer, or why there is none. */
export function urlOf(res: GuardedResponse, allowHttp: boolean): { url: string } | { why: string } {
  if (!res.ok) return { why: `no answer (${res.reason}: ${res.detail})` };
  if (res.status < 200 || res.status > 299) return { why: `HTTP ${res.status}` };
  let json: unknown;
  try {
    json = JSON.parse(res.bodyText);
  } catch {
    return { why: "the body is not JSON" };
  }
  const r = parseApi1Response(json, { allowHttp });
  return r.ok ? { url: r.url } : { why: r.reason + ("msg" in r && r.msg ? ` (msg: ${r.msg})` : "") };
}

/** Whether an answer refuses (no payment URL): a non-2xx status, or 2xx with `result` not true. */
export function refuses(res: GuardedResponse): { refused: boolean; seen: string } {
  if (!res.ok) return { refused: true, seen: `no answer (${res.reason})` };
  if (res.status < 200 || res.status > 299) return { refused: true, seen: `HTTP ${res.status}` };
  try {
    const json = JSON.parse(res.bodyText) as { result?: unknown };
    return json.result === true
      ? { refused: false, seen: `HTTP ${res.status} with result true` }
      : { refused: true, seen: `HTTP ${res.status} with result ${JSON.stringify(json.result)}` };
  } catch {
    return { refused: true, seen: `HTTP ${res.status}, not JSON` };
  }
}
