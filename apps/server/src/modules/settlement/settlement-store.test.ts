import { describe, expect, it } from "vitest";
import { offlineDb } from "../../test/offline-db.js";
import { settlementOrder } from "../../test/settlement-fixtures.js";
import { callbackLogsWrite } from "../callbacks/callback-log-repo.js";
import type { ReviewClaim } from "../review/review-repo.js";
import { planSettlement } from "./settlement-planner.js";
import { settlementWrites } from "./settlement-store.js";

// Records after what they point to: a review item names its callback log row, its timeline
// entry names the item. SQLite runs the writes one after another, so each must come after what
// it points to; PostgreSQL runs them as one statement and checks its foreign keys at the end.

const order = settlementOrder({ wallet_id: null });
const claim: ReviewClaim = {
  status: 1,
  amount: "100.00",
  paidMinor: "10000",
  creditMinor: "9720",
  transactionId: null,
  time: null,
  depositStatus: "succeeded",
};

describe.each(["sqlite", "postgres"] as const)("the writes of a settlement on %s", (kind) => {
  it("change the deposits, then the ledger, then the log rows, the review items, the timeline", () => {
    const db = offlineDb(kind);
    const planner = planSettlement([order], 5);
    planner.apply({ tenantId: "t1", depositId: "d1", to: "succeeded", cause: "callback" });
    const log = callbackLogsWrite(db, [
      {
        tenant_id: "t1",
        integration_id: "i1",
        deposit_id: "d1",
        merchant_id: "m",
        order_no: "o1",
        content_type: null,
        raw_body: "{}",
        verdict: "review",
        error_type: "payment_status_not_pending",
        http_status: 400,
        remote_addr: null,
        created_at: 5,
      },
    ]);
    const writes = settlementWrites(db, planner.writes(), {
      log,
      reviews: [
        {
          tenantId: "t1",
          depositId: "d1",
          callbackLogId: log.ids[0] as string,
          reason: "conflict",
          claim,
          id: "r1",
          eventId: "e1",
          now: 5,
        },
      ],
    });
    const tables = writes.map((w) => /^(UPDATE|INSERT INTO) (\w+)/.exec(w.sql)?.[2]);
    expect(tables).toEqual([
      "deposits",
      "wallets",
      "ledger_entries",
      "callback_logs",
      "review_items",
      "deposit_events",
      // The order succeeded: its open needs_assistance items are settled (API-3).
      "review_items",
      // Last, the webhook events of it all (the review item's, the status change's, the credit's).
      "webhook_events",
      "webhook_deliveries",
    ]);
    // The review item points to the log row written before it, and its timeline entry to it.
    const params = (i: number) => JSON.stringify(writes[i]?.parameters);
    expect(params(4)).toContain(log.ids[0] as string);
    expect(params(5)).toContain('\\"reviewItemId\\":\\"r1\\"');
    expect(params(7)).toMatch(/deposit\.review_required.*deposit\.succeeded.*wallet\.credited/);
  });
});
