import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { constantTimeEquals } from "@psphub/protocol";
import {
  buildPayoutCallback,
  createPayoutRequestHandler,
  createPayoutStatusHandler,
  headerValue,
  type OutcomeName,
  type PayoutAnswer,
  type PayoutRequest,
  type PayoutStatus,
  type PayoutStatusQuery,
  payoutCallbackEndpoint,
  payoutTestHookSteps,
  type RequestHandler,
  SdkError,
  sendPayoutCallback,
  TOKEN_HEADER,
  toNodeHandler,
} from "@psphub/sdk";
import { describeResult, messagePage, payoutPage, type SimEvent, type SimPayout } from "./pages.js";
import { FORM_LIMIT, html, json, readForm, send } from "./sim-http.js";
import type { SimIntegration, SimMode } from "./sim-server.js";

/**
 * The simulator's payouts (docs/psp-open-api.md#payouts): API-4 on `POST /payout/request`
 * (idempotent by payout_no), a payout page per payout whose buttons send API-5 to
 * `{CRM_Callback_URL}/payout/callback`, and the payout status query on `POST /payout/status`,
 * answered from the simulator's own state. Test payouts of psphub certify (and every payout in
 * the `payout_auto_pay` mode) are paid at once.
 */

/** What the payouts need from the simulator they are part of. */
export interface PayoutDeps {
  /** The integration's CRM_Callback_URL (or a full endpoint): API-5 goes to its /payout/callback. */
  readonly callbackUrl: string;
  readonly log: (line: string) => void;
  /** Payouts kept in memory; the oldest are forgotten beyond it. */
  readonly maxPayouts: number;
  /** How long one API-5 callback is retried on network errors and 5xx. */
  readonly deadlineMs: number;
  readonly currencyExponents?: Readonly<Record<string, number>>;
  readonly fetch?: typeof globalThis.fetch;
  integrationsNow(): Promise<readonly SimIntegration[]>;
  holderOf(all: readonly SimIntegration[], provided: string | undefined): SimIntegration | undefined;
  modesOf(integration: SimIntegration | undefined): readonly SimMode[];
  tokensOf(integration: SimIntegration): string[];
  /** Serves a status query with the status modes (slow, garbage, bad_sign) around `build`'s handler. */
  serveStatusQuery(
    req: IncomingMessage,
    res: ServerResponse,
    label: string,
    build: (integration: SimIntegration | undefined, modes: readonly SimMode[]) => RequestHandler,
  ): Promise<void>;
  /** Runs `fn` after `ms`, unless the simulator closes first. */
  schedule(fn: () => void, ms: number): void;
  /** Waits for `work`, counted as in flight meanwhile (the simulator's `idle()`). */
  track(work: Promise<void>): Promise<void>;
  /** A new event id, shared with the orders' events. */
  nextEventId(): number;
}

export interface SimPayouts {
  /** Every payout in memory, by payout_no, oldest first. */
  readonly payouts: ReadonlyMap<string, SimPayout>;
  /** The API-5 endpoint payout callbacks go to. */
  readonly endpoint: string;
  request(req: IncomingMessage, res: ServerResponse): Promise<void>;
  status(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** `GET /payout/:payoutNo`, `POST /payout/:payoutNo/action`, `GET /payout/:payoutNo/events`. */
  page(
    req: IncomingMessage,
    res: ServerResponse,
    rawPayoutNo: string,
    sub: string | undefined,
  ): Promise<void>;
  /** Marks the callbacks still scheduled as cancelled (the simulator stops). */
  cancelScheduled(): void;
}

const STATUS_OF: Record<string, { status: 0 | 1 | 2; label: string }> = {
  paid: { status: 1, label: "Pay" },
  failed: { status: 0, label: "Fail" },
  processing: { status: 2, label: "Processing" },
};
const OUTCOME_OF: Record<0 | 1 | 2, OutcomeName> = { 0: "failed", 1: "success", 2: "processing" };

/** A fetch that changes one hex digit of each API-5 sign (the `payout_bad_sign` mode). */
function spoilingSign(fetch: typeof globalThis.fetch): typeof globalThis.fetch {
  return (url, init) =>
    fetch(url, {
      ...init,
      body: String(init?.body).replace(
        /"sign":"([0-9A-F])/,
        (_m, d: string) => `"sign":"${d === "0" ? "1" : "0"}`,
      ),
    });
}

export function createSimPayouts(deps: PayoutDeps): SimPayouts {
  const endpoint = payoutCallbackEndpoint(deps.callbackUrl);
  const { log } = deps;
  const payouts = new Map<string, SimPayout>();
  /** The integration each payout came in with. */
  const integrationOf = new WeakMap<SimPayout, SimIntegration>();

  /** A payout's integration as it is now (a rotated token or changed modes are followed). */
  async function currentIntegration(payout: SimPayout): Promise<SimIntegration> {
    const first = integrationOf.get(payout);
    if (first === undefined) throw new Error(`payout ${payout.request.payoutNo} has no integration`);
    if (first.merchantId === undefined) return first;
    const now = (await deps.integrationsNow()).find((i) => i.merchantId === payout.request.merchantId);
    return now ?? first;
  }

  function remember(request: PayoutRequest, integration: SimIntegration): SimPayout {
    payouts.delete(request.payoutNo);
    if (payouts.size >= deps.maxPayouts) {
      const oldest = payouts.keys().next().value;
      if (oldest !== undefined) payouts.delete(oldest);
    }
    const payout: SimPayout = {
      request,
      key: randomBytes(16).toString("hex"),
      transactionId: `simpo-${randomBytes(6).toString("hex")}`,
      createdAt: Date.now(),
      events: [],
    };
    payouts.set(request.payoutNo, payout);
    integrationOf.set(payout, integration);
    return payout;
  }

  /** Sends one API-5 callback now (or drops it, in `payout_lost_callback`), recorded in `event`. */
  async function deliver(payout: SimPayout, event: SimEvent): Promise<void> {
    event.state = "sending";
    event.at = Date.now();
    // The payout moved on the simulator's side, whether or not the callback reaches the CRM.
    payout.outcome = { status: event.status, time: event.at };
    const no = payout.request.payoutNo;
    const work = (async () => {
      try {
        const integration = await currentIntegration(payout);
        const modes = deps.modesOf(integration);
        if (modes.includes("payout_lost_callback")) {
          event.state = "lost";
          log(`API-5 payout ${no} ${event.label}: not sent (mode payout_lost_callback)`);
          return;
        }
        const fetch = deps.fetch ?? globalThis.fetch;
        const result = await sendPayoutCallback({
          callbackUrl: endpoint,
          token: integration.token,
          callback: buildPayoutCallback(payout.request, {
            status: OUTCOME_OF[event.status],
            transactionId: payout.transactionId,
            time: event.at,
          }),
          deadlineMs: deps.deadlineMs,
          retry: { baseMs: 250, maxMs: 2000 },
          fetch: modes.includes("payout_bad_sign") ? spoilingSign(fetch) : fetch,
        });
        event.result = result;
        event.state = "sent";
        log(`API-5 payout ${no} ${event.label}: ${describeResult(result).text}`);
      } catch (error) {
        event.state = "error";
        event.error = error instanceof SdkError ? error.message : `could not send: ${String(error)}`;
        log(`API-5 payout ${no} ${event.label}: ${event.error}`);
      }
    })();
    await deps.track(work);
  }

  function newEvent(payout: SimPayout, label: string, status: 0 | 1 | 2): SimEvent {
    const event: SimEvent = {
      id: deps.nextEventId(),
      label,
      status,
      amount: payout.request.amount,
      at: Date.now(),
      state: "scheduled",
    };
    payout.events.push(event);
    return event;
  }

  /** Pays `payout` right after API-4 is answered (test payouts, `payout_auto_pay`). */
  function autoPay(payout: SimPayout, why: string): void {
    const event = newEvent(payout, `Paid at once (${why})`, 1);
    deps.schedule(() => void deliver(payout, event), 0);
  }

  function onPayout(integration: SimIntegration, req: PayoutRequest): PayoutAnswer {
    const modes = deps.modesOf(integration);
    if (integration.merchantId !== undefined && integration.merchantId !== req.merchantId) {
      log(
        `API-4 payout ${req.payoutNo}: refused, merchant_id ${req.merchantId} is not this token's integration`,
      );
      return { accepted: false, msg: "merchant_id does not match the token" };
    }
    if (modes.includes("payout_refuse")) {
      log(`API-4 payout ${req.payoutNo}: refused (mode payout_refuse)`);
      return { accepted: false, msg: "payouts are refused (mode payout_refuse)" };
    }
    const known = payouts.get(req.payoutNo);
    if (known && !modes.includes("payout_not_idempotent")) {
      const k = known.request;
      const same =
        k.merchantId === req.merchantId &&
        k.currency === req.currency &&
        (k.amountMinor !== undefined && req.amountMinor !== undefined
          ? k.amountMinor === req.amountMinor
          : k.amount === req.amount);
      // Never a refusal: the CRM would fail a withdrawal this payout_no may already have paid.
      if (!same)
        throw new SdkError(
          "payout_conflict",
          `payout ${req.payoutNo} came again with ${req.amount} ${req.currency}, not ${k.amount} ${k.currency}`,
        );
      log(`API-4 payout ${req.payoutNo}: asked again, the same payout (${known.transactionId})`);
      return { accepted: true, transactionId: known.transactionId };
    }
    const payout = remember(req, integration);
    if (known) log(`API-4 payout ${req.payoutNo}: asked again, paid AGAIN (mode payout_not_idempotent)`);
    else
      log(`API-4 payout ${req.payoutNo}: ${req.amount} ${req.currency}, accepted (${payout.transactionId})`);
    if (payoutTestHookSteps(req).length > 0) autoPay(payout, "test payout");
    else if (modes.includes("payout_auto_pay")) autoPay(payout, "mode payout_auto_pay");
    return { accepted: true, transactionId: payout.transactionId };
  }

  /** The status query's lookup: the payout's last status here; unknown to another merchant. */
  function payoutStatus(
    integration: SimIntegration,
    payoutNo: string,
    query: PayoutStatusQuery,
  ): PayoutStatus | null {
    const payout = payouts.get(payoutNo);
    const mine =
      payout !== undefined &&
      payout.request.merchantId === query.merchantId &&
      (integration.merchantId === undefined || integration.merchantId === query.merchantId);
    if (!mine) {
      log(`payout status ${payoutNo}: not found`);
      return null;
    }
    const status = payout.outcome?.status ?? 2;
    log(`payout status ${payoutNo}: answered status ${status} (${OUTCOME_OF[status]})`);
    return {
      status,
      amount: payout.request.amount,
      currency: payout.request.currency,
      transactionId: payout.transactionId,
      ...(payout.request.userId === undefined ? {} : { userId: payout.request.userId }),
      ...(payout.outcome === undefined ? {} : { time: payout.outcome.time }),
    };
  }

  function findPayout(rawPayoutNo: string): SimPayout | undefined {
    try {
      return payouts.get(decodeURIComponent(rawPayoutNo));
    } catch {
      return undefined;
    }
  }

  return {
    payouts,
    endpoint,

    /** API-4 through the SDK handler, served by the integration whose token the request carries. */
    async request(req, res) {
      const all = await deps.integrationsNow();
      const integration = deps.holderOf(all, headerValue(req.headers, TOKEN_HEADER));
      const handler = createPayoutRequestHandler({
        tokens: integration ? deps.tokensOf(integration) : () => [],
        currencyExponent: (currency) => deps.currencyExponents?.[currency],
        onPayout: (request) =>
          integration ? onPayout(integration, request) : { accepted: false, msg: "unknown token" },
        onReject(r) {
          const hint =
            integration === undefined && r.reason === "token_invalid"
              ? ` (no integration of the ${all.length} this simulator serves has that token)`
              : "";
          log(
            `API-4 refused (${r.status} ${r.reason}): ${r.message}${hint}${r.stringA ? `; our StringA: ${r.stringA}` : ""}`,
          );
        },
        onError(error) {
          log(`API-4 error: ${error instanceof Error ? error.message : String(error)}`);
        },
      });
      return toNodeHandler(handler)(req, res);
    },

    /** The payout status query, with the status modes (not_found, slow, garbage, bad_sign). */
    status(req, res) {
      return deps.serveStatusQuery(req, res, "payout status", (integration, modes) =>
        createPayoutStatusHandler({
          tokens: integration ? deps.tokensOf(integration) : () => [],
          lookup(payoutNo, query) {
            if (!integration) return null;
            if (modes.includes("not_found")) {
              log(`payout status ${payoutNo}: not found (mode not_found)`);
              return null;
            }
            return payoutStatus(integration, payoutNo, query);
          },
          onReject(r) {
            log(
              `payout status refused (${r.status} ${r.reason}): ${r.message}${r.stringA ? `; our StringA: ${r.stringA}` : ""}`,
            );
          },
          onError(error) {
            log(`payout status error: ${error instanceof Error ? error.message : String(error)}`);
          },
        }),
      );
    },

    async page(req, res, rawPayoutNo, sub) {
      const method = req.method ?? "GET";
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
      const payout = findPayout(rawPayoutNo);
      // The form's key, compared even for an unknown payout so timing tells nothing.
      const keyOk = !wantsPost || constantTimeEquals(form?.get("key") ?? "", payout?.key ?? "no-payout");
      if (!payout || !keyOk) {
        return html(res, 404, messagePage("Unknown payout", "No payout here, or the form is incomplete."));
      }
      if (sub === "events") {
        return json(res, 200, {
          payoutNo: payout.request.payoutNo,
          amount: payout.request.amount,
          currency: payout.request.currency,
          transactionId: payout.transactionId,
          test: payout.request.test,
          ...(payout.outcome === undefined ? {} : { outcome: payout.outcome }),
          events: payout.events.map((e) => ({
            id: e.id,
            label: e.label,
            status: e.status,
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
                  },
                }),
          })),
        });
      }
      if (sub === "action") {
        const action = STATUS_OF[form!.get("action") ?? ""];
        if (!action) return html(res, 400, messagePage("Not sent", "unknown action"));
        await deliver(payout, newEvent(payout, action.label, action.status));
        res.writeHead(303, {
          location: `/payout/${encodeURIComponent(payout.request.payoutNo)}`,
          "cache-control": "no-store",
        });
        res.end();
        return;
      }
      const lost = deps.modesOf(await currentIntegration(payout)).includes("payout_lost_callback");
      return html(res, 200, payoutPage(payout, lost));
    },

    cancelScheduled() {
      for (const payout of payouts.values())
        for (const e of payout.events)
          if (e.state === "scheduled") {
            e.state = "error";
            e.error = "cancelled: the simulator stopped";
          }
    },
  };
}
