import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  constantTimeEquals,
  isJsonNumberText,
  PAYOUT_REQUEST_PATH,
  PAYOUT_STATUS_PATH,
  parseFlatJson,
  STATUS_QUERY_PATH,
  sign,
} from "@psphub/protocol";
import {
  type Api1ParamConfigInput,
  buildCallback,
  callbackEndpoint,
  createApi1Handler,
  createStatusQueryHandler,
  type HandlerOutput,
  headerValue,
  type OrderStatus,
  type OutcomeName,
  type PaymentRequest,
  type RequestHandler,
  SdkError,
  type StatusQuery,
  sendCallback,
  TEST_ORDER_HEADER,
  TOKEN_HEADER,
  testHookSteps,
  toNodeHandler,
} from "@psphub/sdk";
import { createFxRateApi, type FxApiOptions, type FxRateApi } from "./fx-rate-api.js";
import {
  describeResult,
  homePage,
  messagePage,
  paymentPage,
  resultPage,
  type SimEvent,
  type SimOrder,
  type SimPayout,
  STYLESHEET,
} from "./pages.js";
import { FORM_LIMIT, html, json, readForm, send } from "./sim-http.js";
import { createSimPayouts } from "./sim-payouts.js";
import { createWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

/**
 * How the simulator misbehaves, to test the CRM's status queries (API-3):
 *
 * - `not_found`: every status query answers `order_not_found`;
 * - `slow`: status queries are answered after `slowMs` (longer than a typical timeout);
 * - `garbage`: status queries are answered with text that is not JSON;
 * - `bad_sign`: status queries are answered with a `data` whose sign is wrong;
 * - `lost_callback`: no API-2 callback is ever sent; the payment page still changes the order on
 *   the simulator's side, so only a status query can settle it.
 *
 * The status modes apply to the payout status query too. The payout modes (sim-payouts.ts):
 *
 * - `payout_refuse`: API-4 answers `result: false`;
 * - `payout_lost_callback`: no API-5 callback is ever sent; the payout page still changes the
 *   payout on the simulator's side, so only the payout status query can settle it;
 * - `payout_auto_pay`: every payout is paid (API-5 status 1) right after API-4 is answered;
 * - broken, for certify: `payout_not_idempotent` (a repeated payout_no is paid again, with a new
 *   transaction id), `payout_bad_sign` (each API-5 sign spoiled).
 */
export const SIM_MODES = [
  "not_found",
  "slow",
  "garbage",
  "bad_sign",
  "lost_callback",
  // Broken API-1 backends, for `psphub certify` (docs/certify.md#the-simulators-broken-modes).
  "api1_no_checks",
  "api1_new_url",
  "api1_slow",
  // Broken API-2 senders, for certify's callback cases.
  "api2_no_retry",
  "api2_retry_4xx",
  "api2_amount_string",
  "api2_time_seconds",
  "api2_bad_sign",
  // Payouts (API-4, API-5 and the payout status query), and two broken ones for certify.
  "payout_refuse",
  "payout_lost_callback",
  "payout_auto_pay",
  "payout_not_idempotent",
  "payout_bad_sign",
] as const;
export type SimMode = (typeof SIM_MODES)[number];

/** How long the `api1_slow` mode waits before answering API-1: more than certify's 5 s. */
const API1_SLOW_MS = 6_000;

/**
 * The callback sender of a broken API-2 mode: the SDK's sender with its request or what it sees
 * of the answer changed on the way (bodies re-signed, so each mode breaks one thing).
 */
function brokenSender(
  modes: readonly SimMode[],
  token: string,
  fetch: typeof globalThis.fetch,
): typeof globalThis.fetch | undefined {
  /** The body with one change made to its text, signed again as the SDK would. */
  const resigned = (body: string, change: (text: string) => string): string => {
    const changed = change(body);
    const { params, literals } = parseFlatJson(changed);
    const { sign: _old, ...rest } = params;
    return changed.replace(/"sign":"[0-9A-Fa-f]*"/, `"sign":"${sign(rest, token, { literals })}"`);
  };
  const withBody = (change: (text: string) => string): typeof globalThis.fetch => {
    return (url, init) => fetch(url, { ...init, body: change(String(init?.body)) });
  };
  // The amount as a string: its text, so its StringA (and the sign) stay the same.
  if (modes.includes("api2_amount_string"))
    return withBody((b) => b.replace(/"amount":([0-9.eE+-]+)/, '"amount":"$1"'));
  if (modes.includes("api2_time_seconds"))
    return withBody((b) =>
      resigned(b, (t) =>
        t.replace(/"time":(\d+)/, (_m, ms: string) => `"time":${Math.floor(Number(ms) / 1000)}`),
      ),
    );
  if (modes.includes("api2_bad_sign"))
    return withBody((b) =>
      b.replace(/"sign":"([0-9A-F])/, (_m, d: string) => `"sign":"${d === "0" ? "1" : "0"}`),
    );
  if (modes.includes("api2_no_retry"))
    return async (url, init) => {
      const res = await fetch(url, init);
      return res.status >= 500 ? new Response(await res.text(), { status: 400 }) : res;
    };
  if (modes.includes("api2_retry_4xx"))
    return async (url, init) => {
      const res = await fetch(url, init);
      return res.status >= 400 && res.status < 500 ? new Response(await res.text(), { status: 503 }) : res;
    };
  return undefined;
}

/** Modes that decide what a status query answers: at most one of them at a time. */
const ANSWER_MODES: readonly SimMode[] = ["not_found", "garbage", "bad_sign"];

/** The modes in `list`, checked (known names, at most one answer mode); throws with a message. */
export function checkModes(list: readonly string[]): SimMode[] {
  const modes: SimMode[] = [];
  for (const name of list) {
    if (!(SIM_MODES as readonly string[]).includes(name)) {
      throw new SdkError(
        "invalid_config",
        `unknown mode ${JSON.stringify(name)} (one of ${SIM_MODES.join(", ")})`,
      );
    }
    if (!modes.includes(name as SimMode)) modes.push(name as SimMode);
  }
  if (modes.filter((m) => ANSWER_MODES.includes(m)).length > 1) {
    throw new SdkError("invalid_config", `at most one of ${ANSWER_MODES.join(", ")} at a time`);
  }
  return modes;
}

/**
 * One integration the simulator is the tenant backend of: its token (checked on API-1, signing
 * its callbacks) and its API-1 keys.
 */
export interface SimIntegration {
  readonly token: string;
  /** The token before a rotation: API-1 accepts it too (callbacks are signed with `token`). */
  readonly previousToken?: string;
  /**
   * The integration's merchant_id, when known: API-1 requests carrying this token must name it,
   * and a callback is signed with the token the integration has at the time it is sent.
   */
  readonly merchantId?: string;
  readonly paramConfig?: Api1ParamConfigInput;
  readonly customKeys?: readonly string[];
  /** This integration's modes; default: the simulator's `modes`. */
  readonly modes?: readonly SimMode[];
}

/**
 * Where the simulator's integrations come from: a list, or a function asked on every API-1
 * request and before every callback (so a list kept elsewhere, such as the demo's database, is
 * always current).
 */
export type SimIntegrations =
  | readonly SimIntegration[]
  | (() => readonly SimIntegration[] | Promise<readonly SimIntegration[]>);

/**
 * How the simulator runs. `callbackUrl` is required, and `token` (one integration, configured by
 * the options below) or `integrations` (any number), or both.
 */
export interface SimOptions {
  /** The integration's CRM_Callback_URL (`/pay/callback` is appended), or the full endpoint. */
  readonly callbackUrl: string;
  /** The integration's token: checked on API-1, used to sign API-2. */
  readonly token?: string;
  /** The token before a rotation: API-1 accepts it too (callbacks are signed with `token`). */
  readonly previousToken?: string;
  /**
   * More integrations (or all of them, without `token`). An API-1 request is served by the
   * integration whose token it carries, with that integration's keys; its callbacks are signed
   * with that integration's token.
   */
  readonly integrations?: SimIntegrations;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 4100; 0 picks a free port. */
  readonly port?: number;
  /** The simulator's own base URL for payment page links. Default `http://<host>:<port>`. */
  readonly publicUrl?: string;
  /** The `token` integration's API-1 key configuration and custom parameter keys. */
  readonly paramConfig?: Api1ParamConfigInput;
  readonly customKeys?: readonly string[];
  /** Exponents of currencies without an ISO 4217 minor unit (`{ USDT: 6 }`). */
  readonly currencyExponents?: Readonly<Record<string, number>>;
  /** How long one callback is retried on network errors and 5xx. Default 10 s. */
  readonly callbackDeadlineMs?: number;
  /** The payment page's defaults for "processing, then success" and "late" (seconds). */
  readonly processingSeconds?: number;
  readonly lateSeconds?: number;
  /** Modes of every integration that does not name its own (see {@link SIM_MODES}). Default: none. */
  readonly modes?: readonly SimMode[];
  /** How long the `slow` mode waits before answering a status query. Default 15 s. */
  readonly slowMs?: number;
  /** How long the `api1_slow` mode waits before answering API-1. Default 6 s. */
  readonly api1SlowMs?: number;
  /** The exchange-rate API on `GET /fx/rate` (fx-rate-api.ts): its table, key and mode. */
  readonly fx?: FxApiOptions;
  /**
   * Secrets (`whsec_…`, two while one rotates) of the CRM's outbound webhooks: with any, `POST
   * /webhooks` verifies and logs what it receives (webhook-receiver.ts). Default: none, route off.
   */
  readonly webhookSecrets?: readonly string[];
  /** Orders kept in memory; the oldest are forgotten beyond it. Default 10,000. */
  readonly maxOrders?: number;
  /** For tests: the fetch the callback sender uses. */
  readonly fetch?: typeof globalThis.fetch;
  /** Where log lines go. Default `console.log`; never given the token. */
  readonly log?: (line: string) => void;
}

/** A simulator built but not listening (see {@link startSim}). */
export interface Sim {
  readonly server: Server;
  readonly orders: ReadonlyMap<string, SimOrder>;
  /** The payouts taken through API-4, by payout_no (sim-payouts.ts). */
  readonly payouts: ReadonlyMap<string, SimPayout>;
  /** The exchange-rate API: its request count, mode, key and table, changeable while running. */
  readonly fx: FxRateApi;
  /** `POST /webhooks`: the webhooks received (with `webhookSecrets`). */
  readonly webhooks: WebhookReceiver;
  /** The base URL used in payment page links (known once listening). */
  publicUrl(): string;
  /** Sets the base URL of payment page links unless `publicUrl` was configured (startSim does). */
  defaultPublicUrl(url: string): void;
  /** Resolves when no callback is being sent (scheduled ones still wait for their time). */
  idle(): Promise<void>;
  /** Cancels scheduled callbacks and closes the server. */
  close(): Promise<void>;
}

const OUTCOME_OF: Record<0 | 1 | 2, OutcomeName> = { 0: "failed", 1: "success", 2: "processing" };
const STATUS_OF_OUTCOME: Record<OutcomeName, 0 | 1 | 2> = { failed: 0, success: 1, processing: 2 };

function seconds(text: string | null, fallback: number): number | undefined {
  if (text === null || text.trim() === "") return fallback;
  const t = text.trim();
  if (!/^[0-9]{1,4}$/.test(t) || Number(t) > 3600) return undefined;
  return Number(t);
}

/**
 * Builds the simulator's HTTP server without listening:
 *
 * - `POST /pay/url`: API-1 through the SDK handler; stores the order, answers its payment page URL
 *   (the same URL when the CRM asks again for the same order);
 * - `GET /pay/page/:orderNo?key=…`: the payment page (the key comes with the URL);
 * - `POST /pay/page/:orderNo/action`: one outcome button; sends the callback(s) with the SDK
 *   sender, then redirects (303) to `GET /pay/page/:orderNo/result?key=…&events=…`;
 * - `GET /pay/page/:orderNo/events?key=…`: the order's callbacks and answers as JSON;
 * - `POST /payout/request` (API-4), `GET /payout/:payoutNo` (the payout page, its buttons post to
 *   `/payout/:payoutNo/action` and send API-5), `GET /payout/:payoutNo/events` and
 *   `POST /payout/status` (the payout status query): the payouts (sim-payouts.ts);
 * - `GET /fx/rate?from=…&to=…`: the exchange-rate API (fx-rate-api.ts);
 * - `GET /healthz`, `GET /` and `GET /static/sim.css`.
 */
export function createSim(options: SimOptions): Sim {
  const endpoint = callbackEndpoint(options.callbackUrl);
  const log = options.log ?? ((line: string) => console.log(line));
  const maxOrders = options.maxOrders ?? 10_000;
  const deadlineMs = options.callbackDeadlineMs ?? 10_000;
  const processingSeconds = options.processingSeconds ?? 5;
  const lateSeconds = options.lateSeconds ?? 30;
  const globalModes = checkModes(options.modes ?? []);
  const slowMs = options.slowMs ?? 15_000;
  const orders = new Map<string, SimOrder>();
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<void>>();
  let publicUrl = options.publicUrl?.replace(/\/+$/, "") ?? "";
  let nextEventId = 1;
  const fx = createFxRateApi(options.fx ?? {}, { slowMs, log });
  const webhooks = createWebhookReceiver({
    ...(options.webhookSecrets === undefined ? {} : { secrets: options.webhookSecrets }),
    log,
  });

  const pageUrl = (order: SimOrder) =>
    `${publicUrl}/pay/page/${encodeURIComponent(order.request.orderNo)}?key=${order.key}`;

  const single: SimIntegration | undefined =
    options.token === undefined
      ? undefined
      : {
          token: options.token,
          ...(options.previousToken === undefined ? {} : { previousToken: options.previousToken }),
          ...(options.paramConfig === undefined ? {} : { paramConfig: options.paramConfig }),
          ...(options.customKeys === undefined ? {} : { customKeys: options.customKeys }),
        };
  if (single === undefined && options.integrations === undefined) {
    throw new SdkError("invalid_config", "give token or integrations");
  }
  /** The integration each order came in with (orders forgotten from the map go with it). */
  const integrationOf = new WeakMap<SimOrder, SimIntegration>();

  async function integrationsNow(): Promise<readonly SimIntegration[]> {
    const source = options.integrations;
    const listed = typeof source === "function" ? await source() : (source ?? []);
    return single === undefined ? listed : [single, ...listed];
  }

  /** The integration holding this token (current or previous), compared in constant time. */
  function holderOf(
    all: readonly SimIntegration[],
    provided: string | undefined,
  ): SimIntegration | undefined {
    let found: SimIntegration | undefined;
    for (const integration of all) {
      for (const token of [integration.token, integration.previousToken]) {
        if (token === undefined || token === "") continue;
        if (constantTimeEquals(provided ?? "", token) && found === undefined) found = integration;
      }
    }
    return found;
  }

  function onPaymentRequest(integration: SimIntegration, req: PaymentRequest) {
    if (integration.merchantId !== undefined && integration.merchantId !== req.merchantId) {
      log(
        `API-1 order ${req.orderNo}: refused, merchant_id ${req.merchantId} is not this token's integration`,
      );
      return { error: "merchant_id does not match the token" };
    }
    const known = orders.get(req.orderNo);
    if (known && modesOf(integration).includes("api1_new_url")) {
      // Broken on purpose: a second page for an order it already has (a client could pay twice).
      const again: SimOrder = { ...known, key: randomBytes(16).toString("hex") };
      orders.set(req.orderNo, again);
      integrationOf.set(again, integration);
      log(`API-1 order ${req.orderNo}: asked again, a NEW page (mode api1_new_url)`);
      return { url: pageUrl(again) };
    }
    if (known) {
      const same =
        known.request.merchantId === req.merchantId &&
        known.request.currency === req.currency &&
        (known.request.amountMinor !== undefined && req.amountMinor !== undefined
          ? known.request.amountMinor === req.amountMinor
          : known.request.amount === req.amount);
      if (!same) {
        log(`API-1 order ${req.orderNo}: refused, the order_no was used for another payment`);
        return { error: "order_no already used for a different payment" };
      }
      log(`API-1 order ${req.orderNo}: asked again, same page`);
      return { url: pageUrl(known) };
    }
    if (orders.size >= maxOrders) {
      const oldest = orders.keys().next().value;
      if (oldest !== undefined) orders.delete(oldest);
    }
    const order: SimOrder = {
      request: req,
      key: randomBytes(16).toString("hex"),
      transactionId: `sim-${randomBytes(6).toString("hex")}`,
      createdAt: Date.now(),
      events: [],
    };
    orders.set(req.orderNo, order);
    integrationOf.set(order, integration);
    log(`API-1 order ${req.orderNo}: ${req.amount} ${req.currency}, page ready`);
    if (req.test) runTestHook(order, req);
    return { url: pageUrl(order) };
  }

  /**
   * The test hooks (docs/certify.md#test-hooks): a test order of a magic amount settles by
   * itself, as if the client had pressed a button, right after API-1 is answered.
   */
  function runTestHook(order: SimOrder, req: PaymentRequest): void {
    for (const step of testHookSteps(req)) {
      const label = `Test hook: ${step.status}${step.paidAmount === req.amount ? "" : ` of ${step.paidAmount}`}`;
      later(order, label, STATUS_OF_OUTCOME[step.status], step.afterMs / 1000, step.paidAmount);
    }
  }

  const tokensOf = (integration: SimIntegration): string[] => [
    integration.token,
    ...(integration.previousToken ? [integration.previousToken] : []),
  ];

  /**
   * API-1, served by the integration whose token the request carries (its keys decide how the
   * body reads); a token no integration holds gets the SDK's own 401.
   */
  async function api1(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const all = await integrationsNow();
    let integration = holderOf(all, headerValue(req.headers, TOKEN_HEADER));
    // A token no integration holds: the modes of the only integration, when there is one.
    const servedBy = integration ?? (all.length === 1 ? all[0] : undefined);
    const modes = servedBy ? modesOf(servedBy) : globalModes;
    if (modes.includes("api1_slow"))
      await new Promise((r) => setTimeout(r, options.api1SlowMs ?? API1_SLOW_MS));
    if (modes.includes("api1_no_checks")) {
      // Broken on purpose: whatever the header and sign, the request is served as if both were
      // right (re-signed here with the integration's token before the SDK's checks).
      integration ??= all[0];
      if (integration) return api1WithoutChecks(req, res, integration);
    }
    const handler = createApi1Handler({
      tokens: integration ? tokensOf(integration) : () => [],
      ...(integration?.paramConfig === undefined ? {} : { paramConfig: integration.paramConfig }),
      ...(integration?.customKeys === undefined ? {} : { customKeys: integration.customKeys }),
      currencyExponent: (currency) => options.currencyExponents?.[currency],
      onPaymentRequest: (request) =>
        integration ? onPaymentRequest(integration, request) : { error: "unknown token" },
      onReject(r) {
        const hint =
          integration === undefined && r.reason === "token_invalid"
            ? ` (no integration of the ${all.length} this simulator serves has that token)`
            : "";
        log(
          `API-1 refused (${r.status} ${r.reason}): ${r.message}${hint}${r.stringA ? `; our StringA: ${r.stringA}` : ""}`,
        );
      },
      onError(error) {
        log(`API-1 error: ${error instanceof Error ? error.message : String(error)}`);
      },
    });
    return toNodeHandler(handler)(req, res);
  }

  async function api1WithoutChecks(req: IncomingMessage, res: ServerResponse, integration: SimIntegration) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body = raw;
    try {
      const { params, literals } = parseFlatJson(raw);
      const { sign: _given, ...signed } = params;
      const fresh = sign(signed, integration.token, { literals });
      body = /"sign":"[^"]*"/.test(raw) ? raw.replace(/"sign":"[^"]*"/, `"sign":"${fresh}"`) : raw;
    } catch {
      // Not JSON: the SDK refuses it as malformed.
    }
    const handler = createApi1Handler({
      tokens: tokensOf(integration),
      ...(integration.paramConfig === undefined ? {} : { paramConfig: integration.paramConfig }),
      ...(integration.customKeys === undefined ? {} : { customKeys: integration.customKeys }),
      currencyExponent: (currency) => options.currencyExponents?.[currency],
      onPaymentRequest: (request) => onPaymentRequest(integration, request),
      onError: (error) => log(`API-1 error: ${error instanceof Error ? error.message : String(error)}`),
    });
    const test = headerValue(req.headers, TEST_ORDER_HEADER);
    const headers = {
      [TOKEN_HEADER]: integration.token,
      ...(test === undefined ? {} : { [TEST_ORDER_HEADER]: test }),
    };
    const out = await handler.handle({ headers, rawBody: body });
    log(`API-1 served WITHOUT checking its token or sign (mode api1_no_checks): HTTP ${out.status}`);
    res.writeHead(out.status, out.headers).end(out.body);
  }

  /**
   * An order's integration as it is now (a token rotated or modes changed since API-1 are
   * followed), or as it came in with.
   */
  async function currentIntegration(order: SimOrder): Promise<SimIntegration> {
    const first = integrationOf.get(order);
    if (first === undefined) throw new Error(`order ${order.request.orderNo} has no integration`);
    if (first.merchantId === undefined) return first;
    const now = (await integrationsNow()).find((i) => i.merchantId === order.request.merchantId);
    return now ?? first;
  }

  const modesOf = (integration: SimIntegration | undefined): readonly SimMode[] =>
    integration?.modes === undefined ? globalModes : checkModes(integration.modes);

  /** Resolves after `ms`, unless the simulator closes first (then never: its connections close). */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  /** The status query's lookup: the order's outcome on this side; unknown to another merchant. */
  function orderStatus(integration: SimIntegration, orderNo: string, query: StatusQuery): OrderStatus | null {
    const order = orders.get(orderNo);
    const mine =
      order !== undefined &&
      order.request.merchantId === query.merchantId &&
      (integration.merchantId === undefined || integration.merchantId === query.merchantId);
    if (!mine) {
      log(`API-3 order ${orderNo}: not found`);
      return null;
    }
    const outcome = order.outcome;
    const status = outcome?.status ?? 2;
    log(`API-3 order ${orderNo}: answered status ${status} (${OUTCOME_OF[status]})`);
    return {
      status,
      amount: outcome?.amount ?? order.request.amount,
      currency: order.request.currency,
      transactionId: order.transactionId,
      ...(order.request.userId === undefined ? {} : { userId: order.request.userId }),
      ...(outcome === undefined ? {} : { time: outcome.time }),
    };
  }

  /**
   * A status query (API-3, or the payout status query) through the SDK handler `build` gives,
   * served by the integration whose token the request carries; its modes may delay the answer,
   * or replace it by garbage or a wrong sign (`not_found` is the handler's lookup's to apply).
   */
  async function serveStatusQuery(
    req: IncomingMessage,
    res: ServerResponse,
    label: string,
    build: (integration: SimIntegration | undefined, modes: readonly SimMode[]) => RequestHandler,
  ): Promise<void> {
    const integration = holderOf(await integrationsNow(), headerValue(req.headers, TOKEN_HEADER));
    const modes = modesOf(integration);
    if (modes.includes("slow")) {
      log(`${label}: answering in ${slowMs} ms (mode slow)`);
      await pause(slowMs);
      // The CRM gave up meanwhile: nothing left to answer (or to read).
      if (req.socket.destroyed) return;
    }
    if (modes.includes("garbage")) {
      req.resume();
      log(`${label}: answered garbage (mode garbage)`);
      return send(
        res,
        200,
        "application/json; charset=utf-8",
        '{"result":true,"msg":"ok","data":{"order_no":',
      );
    }
    const handler = build(integration, modes);
    const output = await new Promise<HandlerOutput>((resolve) => {
      const headers: Record<string, string> = {};
      const capture = {
        statusCode: 200,
        setHeader(name: string, value: string) {
          headers[name] = value;
        },
        end(body = "") {
          resolve({ status: capture.statusCode, headers, body });
        },
      };
      void toNodeHandler(handler)(req, capture);
    });
    let body = output.body;
    if (modes.includes("bad_sign") && output.status === 200) {
      // One hex digit changed: still 40 hex digits, but it verifies with no token.
      body = body.replace(
        /"sign":"([0-9A-F])/,
        (_m, first: string) => `"sign":"${first === "0" ? "1" : "0"}`,
      );
      log(`${label}: the data's sign was spoiled (mode bad_sign)`);
    }
    send(res, output.status, output.headers["content-type"] ?? "application/json; charset=utf-8", body);
  }

  /** API-3 through the SDK's status query handler (`not_found` answers `order_not_found`). */
  function statusQuery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return serveStatusQuery(req, res, "API-3", (integration, modes) =>
      createStatusQueryHandler({
        tokens: integration ? tokensOf(integration) : () => [],
        lookup(orderNo, query) {
          if (!integration) return null;
          if (modes.includes("not_found")) {
            log(`API-3 order ${orderNo}: not found (mode not_found)`);
            return null;
          }
          return orderStatus(integration, orderNo, query);
        },
        onReject(r) {
          log(
            `API-3 refused (${r.status} ${r.reason}): ${r.message}${r.stringA ? `; our StringA: ${r.stringA}` : ""}`,
          );
        },
        onError(error) {
          log(`API-3 error: ${error instanceof Error ? error.message : String(error)}`);
        },
      }),
    );
  }

  const payouts = createSimPayouts({
    callbackUrl: options.callbackUrl,
    log,
    maxPayouts: maxOrders,
    deadlineMs,
    ...(options.currencyExponents === undefined ? {} : { currencyExponents: options.currencyExponents }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    integrationsNow,
    holderOf,
    modesOf,
    tokensOf,
    serveStatusQuery,
    schedule(fn, ms) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timer.unref();
      timers.add(timer);
    },
    async track(work) {
      inflight.add(work);
      try {
        await work;
      } finally {
        inflight.delete(work);
      }
    },
    nextEventId: () => nextEventId++,
  });

  /** Sends one callback now and records it in `event`. */
  async function deliver(order: SimOrder, event: SimEvent, time?: number): Promise<void> {
    event.state = "sending";
    event.at = Date.now();
    const at = time ?? event.at;
    // The payment moved on the simulator's side, whether or not the callback reaches the CRM
    // (an amount that is not a number stays out: the status query could not sign it).
    if (isJsonNumberText(event.amount) && !event.amount.startsWith("-")) {
      order.outcome = { status: event.status, amount: event.amount, time: at };
    }
    const work = (async () => {
      try {
        const integration = await currentIntegration(order);
        if (modesOf(integration).includes("lost_callback")) {
          event.state = "lost";
          log(`API-2 order ${order.request.orderNo} ${event.label}: not sent (mode lost_callback)`);
          return;
        }
        const broken = brokenSender(
          modesOf(integration),
          integration.token,
          options.fetch ?? globalThis.fetch,
        );
        const result = await sendCallback({
          callbackUrl: endpoint,
          token: integration.token,
          callback: buildCallback(order.request, {
            status: OUTCOME_OF[event.status],
            paidAmount: event.amount,
            transactionId: order.transactionId,
            time: at,
          }),
          deadlineMs,
          retry: { baseMs: 250, maxMs: 2000 },
          ...(broken ? { fetch: broken } : options.fetch ? { fetch: options.fetch } : {}),
        });
        event.result = result;
        event.state = "sent";
        log(`API-2 order ${order.request.orderNo} ${event.label}: ${describeResult(result).text}`);
      } catch (error) {
        event.state = "error";
        event.error = error instanceof SdkError ? error.message : `could not send: ${String(error)}`;
        log(`API-2 order ${order.request.orderNo} ${event.label}: ${event.error}`);
      }
    })();
    inflight.add(work);
    try {
      await work;
    } finally {
      inflight.delete(work);
    }
  }

  function newEvent(order: SimOrder, label: string, status: 0 | 1 | 2, amount: string): SimEvent {
    const event: SimEvent = { id: nextEventId++, label, status, amount, at: Date.now(), state: "scheduled" };
    order.events.push(event);
    return event;
  }

  async function now(order: SimOrder, label: string, status: 0 | 1 | 2, amount: string, time?: number) {
    const event = newEvent(order, label, status, amount);
    await deliver(order, event, time);
    return event;
  }

  function later(
    order: SimOrder,
    label: string,
    status: 0 | 1 | 2,
    delaySeconds: number,
    amount = order.request.amount,
  ): SimEvent {
    const event = newEvent(order, label, status, amount);
    event.at = Date.now() + delaySeconds * 1000;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void deliver(order, event);
    }, delaySeconds * 1000);
    timer.unref();
    timers.add(timer);
    log(`API-2 order ${order.request.orderNo} ${label}: scheduled in ${delaySeconds} s`);
    return event;
  }

  /** Runs one button of the payment page; answers the events it created, or an error text. */
  async function runAction(order: SimOrder, form: URLSearchParams): Promise<SimEvent[] | string> {
    const amount = order.request.amount;
    switch (form.get("action")) {
      case "success":
        return [await now(order, "Pay", 1, amount)];
      case "fail":
        return [await now(order, "Decline", 0, amount)];
      case "processing": {
        const s = seconds(form.get("seconds"), processingSeconds);
        if (s === undefined) return "seconds must be a whole number from 0 to 3600";
        const first = await now(order, "Processing", 2, amount);
        return [first, later(order, `Success after processing (${s} s)`, 1, s)];
      }
      case "amount": {
        const paid = (form.get("amount") ?? "").trim();
        // The label goes to logs and pages: no control characters, bounded length.
        const shown = paid.replace(/\p{Cc}/gu, " ").slice(0, 40);
        return [await now(order, `Pay a different amount (${shown})`, 1, paid)];
      }
      case "twice": {
        // One callback, sent twice: the same body, the same time, the same sign.
        const time = Date.now();
        const first = await now(order, "Success callback (1 of 2)", 1, amount, time);
        const second = await now(order, "Success callback (2 of 2)", 1, amount, time);
        return [first, second];
      }
      case "late": {
        const s = seconds(form.get("seconds"), lateSeconds);
        if (s === undefined) return "seconds must be a whole number from 0 to 3600";
        return [later(order, `Late success (${s} s)`, 1, s)];
      }
      default:
        return "unknown action";
    }
  }

  function findOrder(rawOrderNo: string, key: string | null): SimOrder | undefined {
    let orderNo: string;
    try {
      orderNo = decodeURIComponent(rawOrderNo);
    } catch {
      return undefined;
    }
    const order = orders.get(orderNo);
    // Compare even when the order is unknown, so timing does not tell which orders exist.
    const keyOk = constantTimeEquals(key ?? "", order?.key ?? "no-order");
    return order && keyOk ? order : undefined;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const method = req.method ?? "GET";
    const path = url.pathname;

    if (path === "/pay/url") return api1(req, res);
    if (path === STATUS_QUERY_PATH) return statusQuery(req, res);
    if (path === PAYOUT_REQUEST_PATH) return payouts.request(req, res);
    if (path === PAYOUT_STATUS_PATH) return payouts.status(req, res);
    if (path === "/fx/rate") return fx.handle(req, res, url);
    if (path === "/webhooks") return webhooks.handle(req, res);
    if (path === "/healthz" && (method === "GET" || method === "HEAD")) {
      return json(res, 200, { status: "ok", orders: orders.size, payouts: payouts.payouts.size });
    }
    if (path === "/static/sim.css" && method === "GET") {
      return send(res, 200, "text/css; charset=utf-8", STYLESHEET, {
        "cache-control": "public, max-age=3600",
      });
    }
    if (path === "/" && method === "GET") {
      return html(
        res,
        200,
        homePage({
          callbackEndpoint: endpoint,
          payoutCallbackEndpoint: payouts.endpoint,
          orders: orders.size,
          payouts: [...payouts.payouts.values()],
          publicUrl,
          modes: globalModes,
        }),
      );
    }

    const payoutMatch = /^\/payout\/([^/]+)(?:\/(action|events))?$/.exec(path);
    if (payoutMatch) return payouts.page(req, res, payoutMatch[1]!, payoutMatch[2]);

    const match = /^\/pay\/page\/([^/]+)(?:\/(action|result|events))?$/.exec(path);
    if (!match) return html(res, 404, messagePage("Not found", "There is nothing here."));
    const sub = match[2];
    const wantsPost = sub === "action";
    if (wantsPost ? method !== "POST" : method !== "GET" && method !== "HEAD") {
      req.resume();
      return send(res, 405, "text/plain; charset=utf-8", "method not allowed", {
        allow: wantsPost ? "POST" : "GET",
      });
    }

    let form: URLSearchParams | undefined;
    if (wantsPost) {
      form = await readForm(req, FORM_LIMIT);
      if (!form) return html(res, 413, messagePage("Too large", "The form is too large."));
    }
    const order = findOrder(match[1]!, form ? form.get("key") : url.searchParams.get("key"));
    if (!order) {
      return html(res, 404, messagePage("Unknown order", "No order here, or the link is incomplete."));
    }

    switch (sub) {
      case undefined:
        return html(
          res,
          200,
          paymentPage(
            order,
            processingSeconds,
            lateSeconds,
            modesOf(await currentIntegration(order)).includes("lost_callback"),
          ),
        );
      case "events":
        return json(res, 200, {
          orderNo: order.request.orderNo,
          amount: order.request.amount,
          currency: order.request.currency,
          transactionId: order.transactionId,
          ...(order.outcome === undefined ? {} : { outcome: order.outcome }),
          events: order.events.map((e) => ({
            id: e.id,
            label: e.label,
            status: e.status,
            amount: e.amount,
            state: e.state,
            at: e.at,
            ...(e.error === undefined ? {} : { error: e.error }),
            ...(e.result === undefined
              ? {}
              : {
                  result: {
                    kind: e.result.kind,
                    attempts: e.result.attempts,
                    ...("status" in e.result ? { status: e.result.status } : {}),
                    ...("type" in e.result && e.result.type !== undefined ? { type: e.result.type } : {}),
                    ...(e.result.kind === "gave_up" ? { lastError: e.result.lastError } : {}),
                  },
                }),
          })),
        });
      case "result": {
        const ids = (url.searchParams.get("events") ?? "").split(",").map(Number);
        const events = order.events.filter((e) => ids.includes(e.id));
        return html(res, 200, resultPage(order, events));
      }
      case "action": {
        const outcome = await runAction(order, form!);
        if (typeof outcome === "string") return html(res, 400, messagePage("Not sent", outcome));
        const location =
          `/pay/page/${encodeURIComponent(order.request.orderNo)}/result` +
          `?key=${order.key}&events=${outcome.map((e) => e.id).join(",")}`;
        res.writeHead(303, { location, "cache-control": "no-store" });
        res.end();
        return;
      }
    }
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log(`error: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error");
      else res.destroy();
    });
  });

  return {
    server,
    orders,
    payouts: payouts.payouts,
    fx,
    webhooks,
    publicUrl: () => publicUrl,
    defaultPublicUrl(url: string) {
      if (publicUrl === "") publicUrl = url.replace(/\/+$/, "");
    },
    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      fx.close();
      payouts.cancelScheduled();
      for (const order of orders.values()) {
        for (const e of order.events) {
          if (e.state === "scheduled") {
            e.state = "error";
            e.error = "cancelled: the simulator stopped";
          }
        }
      }
      if (server.listening) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    },
  };
}

/** A running simulator. */
export interface RunningSim {
  /** Where it listens, e.g. `http://127.0.0.1:4100`. */
  readonly url: string;
  /** The base URL in payment page links (`--public-url`, or `url`). */
  readonly publicUrl: string;
  readonly port: number;
  readonly sim: Sim;
  close(): Promise<void>;
}

/**
 * Builds and starts the simulator (for `psp-sim`, a demo command or tests). Port 0 picks a free
 * port; the payment page links then use the real one.
 */
export async function startSim(options: SimOptions): Promise<RunningSim> {
  const sim = createSim(options);
  const host = options.host ?? "127.0.0.1";
  sim.server.listen(options.port ?? 4100, host);
  await Promise.race([
    once(sim.server, "listening"),
    once(sim.server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  const { port } = sim.server.address() as AddressInfo;
  const shownHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  sim.defaultPublicUrl(url);
  return { url, publicUrl: sim.publicUrl(), port, sim, close: () => sim.close() };
}
