import { newId } from "../../common/ids.js";
import { type Db, encodeJson, writeTransaction } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { claimDue, claimStatement } from "../../infra/jobs/job-claim.js";
import { insertCallbackLog } from "../callbacks/callback-log-repo.js";
import {
  findDepositById,
  insertDepositEvent,
  type NewDepositEvent,
  newEventId,
} from "../deposits/deposit-repo.js";
import type { AssistanceClaim } from "../review/review-repo.js";
import { depositWebhook } from "../webhooks/deposit-webhook.js";
import { insertWebhookEvents } from "../webhooks/outbox-repo.js";

/**
 * Storage of API-3 status queries: the due orders a worker claims, the compare-and-set that
 * moves an order's schedule on, the records of answers that had no API-2 body to judge, and the
 * needs-assistance flag.
 */

/** An order to query, with what the query needs of its integration (the token still sealed). */
export type QueryTarget = {
  depositId: string;
  tenantId: string;
  integrationId: string;
  orderNo: string;
  status: DepositStatus;
  step: number;
  merchantId: string;
  appUrl: string;
  tokenEnc: string;
  enabled: boolean;
  statusQueryEnabled: boolean;
  schedule: string | null;
  timeoutMs: number;
};

function targetQuery(db: Db) {
  return db
    .selectFrom("deposits as d")
    .innerJoin("psp_integrations as i", (j) =>
      j.onRef("i.id", "=", "d.integration_id").onRef("i.tenant_id", "=", "d.tenant_id"),
    )
    .select([
      "d.id as depositId",
      "d.tenant_id as tenantId",
      "d.integration_id as integrationId",
      "d.order_no as orderNo",
      "d.status as status",
      "d.status_query_step as step",
      "i.merchant_id as merchantId",
      "i.app_url as appUrl",
      "i.token_enc as tokenEnc",
      "i.enabled as enabled",
      "i.status_query_enabled as statusQueryEnabled",
      "i.status_query_schedule as schedule",
      "i.status_query_timeout_ms as timeoutMs",
    ]);
}

type TargetRow = Omit<QueryTarget, "enabled" | "statusQueryEnabled"> & {
  enabled: number;
  statusQueryEnabled: number;
};
const toTarget = (r: TargetRow): QueryTarget => ({
  ...r,
  enabled: Number(r.enabled) === 1,
  statusQueryEnabled: Number(r.statusQueryEnabled) === 1,
});

/** The status-query schedule as a job queue (infra/jobs): an order is due at `status_query_due_at`. */
const CLAIM_DUE = claimStatement({ table: "deposits", due: "status_query_due_at" });

/** One deposit of one tenant, as a query target; undefined when the tenant has no such deposit. */
export async function findQueryTarget(
  db: Db,
  tenantId: string,
  depositId: string,
): Promise<QueryTarget | undefined> {
  const row = await targetQuery(db)
    .where("d.tenant_id", "=", tenantId)
    .where("d.id", "=", depositId)
    .executeTakeFirst();
  return row ? toTarget(row as TargetRow) : undefined;
}

/**
 * Up to `limit` open orders past their TTL at `now` whose integration has API-3 on (the expiry
 * sweep queries them before expiring them).
 */
export async function findExpiringQueryTargets(db: Db, now: number, limit: number): Promise<QueryTarget[]> {
  const rows = await targetQuery(db)
    .where("d.status", "in", ["pending", "processing"])
    .where("d.expires_at", "<", now)
    .where("i.status_query_enabled", "=", 1)
    .orderBy("d.expires_at")
    .limit(limit)
    .execute();
  return rows.map((r) => toTarget(r as TargetRow));
}

/** A claimed order: its target and the lease its due time was moved to. */
export type Claim = { target: QueryTarget; lease: number };

/**
 * Claims up to `limit` orders whose query is due at `now` (infra/jobs/job-claim.ts): their due
 * time moves to the lease (now + the query's timeout + a margin).
 */
export async function claimDueQueries(db: Db, now: number, limit: number, leaseMs: number): Promise<Claim[]> {
  const { ids, lease } = await claimDue(db, CLAIM_DUE, now, limit, leaseMs);
  if (ids.length === 0) return [];
  const rows = await targetQuery(db)
    .where("d.id", "in", ids)
    .orderBy("d.status_query_due_at")
    .orderBy("d.id")
    .execute();
  return rows.map((r) => ({ target: toTarget(r as TargetRow), lease }));
}

/**
 * Moves a claimed order's schedule on: to `next` (its step and due time), or ends it (null), only
 * while its due time is still the claim's lease. False when it is not: the order was settled
 * (a final status ends its schedule) or another worker took it after the lease passed.
 */
export async function advanceSchedule(
  db: Db,
  depositId: string,
  lease: number,
  next: { step: number; dueAt: number } | null,
): Promise<boolean> {
  const r = await db
    .updateTable("deposits")
    .set(
      next === null
        ? { status_query_due_at: null }
        : { status_query_due_at: next.dueAt, status_query_step: next.step },
    )
    .where("id", "=", depositId)
    .where("status_query_due_at", "=", lease)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** `callback_logs.error_type` of an answer saying the backend does not know the order. */
export const ORDER_NOT_FOUND_ERROR = "order_not_found";
/** `callback_logs.error_type` of an HTTP answer that is not a usable API-3 answer. */
export const INVALID_ANSWER_ERROR = "status_answer_invalid";

/**
 * An answer that had a body but no API-2 body to judge (not found, not a proper answer): its log
 * row (`rejected`, source `status_query`, the backend's HTTP status) and the query's timeline
 * entry, in one transaction. Returns the log row's id.
 */
export async function recordUnjudgedAnswer(
  db: Db,
  t: QueryTarget,
  a: { errorType: string; httpStatus: number; bodyText: string; now: number },
  event: (callbackLogId: string) => NewDepositEvent,
): Promise<string> {
  return writeTransaction(db, async (trx) => {
    const id = await insertCallbackLog(trx, {
      source: "status_query",
      tenant_id: t.tenantId,
      integration_id: t.integrationId,
      deposit_id: t.depositId,
      merchant_id: t.merchantId,
      order_no: t.orderNo,
      content_type: "application/json",
      raw_body: a.bodyText,
      verdict: "rejected",
      error_type: a.errorType,
      http_status: a.httpStatus,
      remote_addr: null,
      created_at: a.now,
    });
    await insertDepositEvent(trx, event(id));
    return id;
  });
}

/** A query's timeline entry alone (a query that brought back no body). */
export async function recordQueryEvent(db: Db, event: NewDepositEvent): Promise<void> {
  await insertDepositEvent(db, event);
}

/**
 * Ends a claimed order's schedule and flags it **needs assistance**, in one transaction, only
 * while the claim still holds (see {@link advanceSchedule}): a review item `needs_assistance`
 * (its own dedupe key per flagging), its `review` timeline entry and its webhook event. Returns the item's id, or
 * null when the claim no longer held.
 */
export async function flagNeedsAssistance(
  db: Db,
  t: QueryTarget,
  lease: number,
  f: {
    why: AssistanceClaim["why"];
    queries: number;
    lastOutcome: string | null;
    callbackLogId: string | null;
    now: number;
  },
): Promise<string | null> {
  return writeTransaction(db, async (trx) => {
    if (!(await advanceSchedule(trx, t.depositId, lease, null))) return null;
    const dep = await findDepositById(trx, t.tenantId, t.depositId);
    if (!dep) throw new Error(`deposit ${t.depositId} vanished under its claim`);
    const claim: AssistanceClaim = {
      why: f.why,
      queries: f.queries,
      lastOutcome: f.lastOutcome,
      depositStatus: dep.status,
    };
    const id = newId();
    await trx
      .insertInto("review_items")
      .values({
        id,
        tenant_id: t.tenantId,
        deposit_id: t.depositId,
        callback_log_id: f.callbackLogId,
        reason: "needs_assistance",
        dedupe_key: `${t.depositId}:needs_assistance:${f.now}`,
        status: "open",
        resolution: null,
        resolved_by: null,
        comment: null,
        data: encodeJson(claim),
        created_at: f.now,
        resolved_at: null,
        approval_requested_by: null,
        approval_requested_at: null,
        approval_comment: null,
      })
      .execute();
    await insertDepositEvent(trx, {
      tenantId: t.tenantId,
      depositId: t.depositId,
      id: newEventId(),
      now: f.now,
      event: { kind: "review", data: { reviewItemId: id, reason: "needs_assistance" } },
    });
    await insertWebhookEvents(trx, [
      depositWebhook(dep, {
        type: "deposit.needs_assistance",
        previousStatus: dep.status,
        cause: "status_query",
        now: f.now,
        review: { itemId: id, reason: "needs_assistance" },
      }),
    ]);
    return id;
  });
}
