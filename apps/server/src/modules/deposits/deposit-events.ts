/**
 * The deposit timeline: one row in deposit_events per thing that happened, in order. The
 * `data` JSON of each kind is typed here so writers and the timeline reader agree. Secrets
 * (the token) never appear in any of them.
 */
export type DepositEvent =
  | {
      kind: "created";
      data: { by: "client" | "staff"; actorId: string | null; amount: string; currency: string; fee: string };
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
        cause: "callback" | "manual" | "expiry" | "api1" | "review" | "cancel";
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
