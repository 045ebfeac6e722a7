import type { CallbackLogsTable } from "../../infra/db/schema.js";

/**
 * The deposit timeline: one row in deposit_events per thing that happened, in order. The
 * `data` JSON of each kind is typed here so writers and the timeline reader agree. Secrets
 * (the token) never appear in any of them.
 */
export type DepositEvent =
  | {
      kind: "created";
      data: {
        by: "client" | "staff";
        actorId: string | null;
        amount: string;
        currency: string;
        fee: string;
        /** The quote locked on the order (docs/exchange-rates.md); absent without one. */
        quote?: CreatedEventQuote;
      };
    }
  | {
      kind: "api1_call";
      data: {
        url: string;
        /** The signed body as sent (it carries no token; `sign` is kept). */
        request: Record<string, unknown>;
        httpStatus: number | null;
        /** The response body, truncated. */
        response: string | null;
        latencyMs: number;
        outcome: "ok" | "failed";
        reason?: string;
        paymentUrl?: string;
      };
    }
  | {
      kind: "callback";
      data: {
        callbackLogId: string;
        status: number | null;
        amount: string | null;
        verdict: string;
        errorType: string | null;
      };
    }
  | {
      kind: "status_change";
      data: {
        from: string;
        to: string;
        cause: "callback" | "status_query" | "manual" | "expiry" | "api1" | "review" | "cancel";
      };
    }
  | {
      /** An API-3 status query (modules/status-query), whatever its outcome. */
      kind: "status_query";
      data: {
        trigger: "schedule" | "expiry" | "manual";
        /** The schedule's step (0-based); null for the expiry and manual queries. */
        step: number | null;
        outcome: "found" | "not_found" | "failed";
        /** Why a query failed, or why a found answer was refused (its error type); else null. */
        reason: string | null;
        /** The answer's callback log row, when it had a body to keep. */
        callbackLogId: string | null;
        verdict: CallbackLogsTable["verdict"] | null;
      };
    }
  | { kind: "ledger"; data: { entryId: string; walletId: string; amount: string; currency: string } }
  | {
      kind: "manual";
      data: { action: "approve" | "reject" | "cancel"; actorId: string | null; comment: string };
    }
  | {
      kind: "review";
      data: {
        reviewItemId: string;
        reason: string;
        resolution?: string;
        comment?: string;
        /** Four eyes (needs-assistance credits): the user who asked, and the second who approved. */
        requestedBy?: string;
        requestedByName?: string;
        approvedBy?: string;
        approvedByName?: string;
      };
    };

export type DepositEventKind = DepositEvent["kind"];

/** A locked quote on the `created` entry: amounts and rates as decimal text. */
export type CreatedEventQuote = {
  accountAmount: string;
  accountCurrency: string;
  /** The source's rate, before the markup. */
  rate: string;
  markupBps: number;
  markupAmount: string;
  sourceKind: "manual" | "external";
  sourceName: string;
  rateTime: number;
  quotedAt: number;
  validUntil: number;
};
