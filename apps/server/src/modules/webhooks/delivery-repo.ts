import type { ExpressionBuilder } from "kysely";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import type { Database, WebhookAttemptsTable, WebhookEventsTable } from "../../infra/db/schema.js";
import { insertRows, rowsAsTable, runSql, tableColumns } from "../../infra/db/sql-text.js";
import {
  claimDue,
  claimStatement,
  type JobQueue,
  oldestDue,
  oldestDueStatement,
} from "../../infra/jobs/job-claim.js";
import { openAlertIn, resolveAlertIn } from "../integration-health/alert-repo.js";
import { insertWebhookEvents } from "./outbox-repo.js";
import { FAILING_ALERT_AT } from "./retry-policy.js";

/**
 * Storage of webhook delivery: the claim of due deliveries (infra/jobs), and the record of an
 * attempt with what it changes: the delivery's state, the endpoint's failure streak, its alerts
 * and, when it must stop, its disabling.
 */

/**
 * Due deliveries of enabled endpoints, in due order. One endpoint gets one order's events in
 * sequence: a delivery waits while an earlier one of its order to its endpoint is pending
 * (due later, or claimed by a worker); one given up (`failed`) no longer holds it back.
 */
const DELIVERY_QUEUE_SPEC: JobQueue = {
  table: "webhook_deliveries",
  due: "due_at",
  where: `job.status = 'pending'
    AND EXISTS (SELECT 1 FROM webhook_endpoints p
      WHERE p.id = job.endpoint_id AND p.enabled = 1 AND p.deleted_at IS NULL)
    AND (job.deposit_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_deliveries x
      WHERE x.endpoint_id = job.endpoint_id AND x.deposit_id = job.deposit_id AND x.status = 'pending'
        AND x.seq < job.seq))`,
};
const DELIVERY_QUEUE = claimStatement(DELIVERY_QUEUE_SPEC);

/** A claimed delivery with what sending it needs (the secrets still sealed). */
export type ClaimedDelivery = {
  id: string;
  tenantId: string;
  eventId: string;
  endpointId: string;
  depositId: string | null;
  attempts: number;
  lease: number;
  event: Pick<WebhookEventsTable, "type" | "data" | "seq" | "created_at">;
  url: string;
  secretEnc: string;
  previousSecretEnc: string | null;
  previousExpiresAt: number | null;
};

const DELIVERY_BACKLOG = oldestDueStatement(DELIVERY_QUEUE_SPEC, ["tenant_id"]);

/**
 * How long the longest-waiting claimable delivery due at `now` has waited, and its tenant; null
 * when none is due.
 */
export async function deliveryLag(db: Db, now: number): Promise<{ lagMs: number; tenantId: string } | null> {
  const row = await oldestDue<{ tenant_id: string }>(db, DELIVERY_BACKLOG, now);
  return row ? { lagMs: Math.max(0, now - row.due), tenantId: row.tenant_id } : null;
}

export async function claimDeliveries(
  db: Db,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const { ids, lease } = await claimDue(db, DELIVERY_QUEUE, now, limit, leaseMs);
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("webhook_deliveries as d")
    .innerJoin("webhook_events as e", "e.id", "d.event_id")
    .innerJoin("webhook_endpoints as p", "p.id", "d.endpoint_id")
    .select([
      "d.id",
      "d.tenant_id",
      "d.event_id",
      "d.endpoint_id",
      "d.deposit_id",
      "d.attempts",
      "e.type",
      "e.data",
      "e.seq",
      "e.created_at",
      "p.url",
      "p.secret_enc",
      "p.previous_secret_enc",
      "p.previous_expires_at",
    ])
    .where("d.id", "in", ids)
    .orderBy("d.created_at")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    eventId: r.event_id,
    endpointId: r.endpoint_id,
    depositId: r.deposit_id,
    attempts: Number(r.attempts),
    lease,
    event: { type: r.type, data: r.data, seq: r.seq, created_at: Number(r.created_at) },
    url: r.url,
    secretEnc: r.secret_enc,
    previousSecretEnc: r.previous_secret_enc,
    previousExpiresAt: r.previous_expires_at === null ? null : Number(r.previous_expires_at),
  }));
}

/** One attempt as the delivery log keeps it. */
export type AttemptRecord = {
  id: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string> | null;
  /** At most the first KiB. */
  responseBody: string | null;
  error: string | null;
  latencyMs: number;
  now: number;
};

/** What the attempt decided (retry-policy.ts and the worker). */
export type AttemptDecision =
  | { kind: "delivered" }
  | { kind: "retry"; at: number }
  | { kind: "give_up" }
  /** Failed, and the endpoint is to be disabled (`gone`: 410; `failing`: 5 days of failures). */
  | { kind: "disable"; reason: "gone" | "failing"; retryAt: number | null };

/** An endpoint's failure streak while a batch is recorded (read once, written once). */
type EndpointStreak = {
  url: string;
  failingSince: number | null;
  lastSuccessAt: number | null;
  read: { failingSince: number | null; lastSuccessAt: number | null };
  /** A success ended a streak: its webhook_failing alert resolves. */
  resolve: boolean;
};

/** An attempt to record, with how to decide its outcome from the endpoint's streak. */
export type AttemptToRecord = {
  claim: ClaimedDelivery;
  attempt: AttemptRecord;
  decide: (streak: { failingSince: number | null; attempts: number }) => AttemptDecision;
};
export type RecordedAttempt = {
  held: boolean;
  decision?: AttemptDecision;
  disabled?: boolean;
  alertOpened?: boolean;
};

/**
 * Records the attempts of a batch in ONE transaction, in order: one commit per batch (a
 * transaction per delivery was most of the worker's cost on SQLite's one writer, bench B6).
 */
export async function recordAttempts(db: Db, items: readonly AttemptToRecord[]): Promise<RecordedAttempt[]> {
  if (items.length === 0) return [];
  return writeTransaction(db, async (trx) => {
    // Each endpoint's streak is read once and written once per batch: a row update per delivery
    // serialised every batch of one endpoint on its row lock (PostgreSQL, bench B6).
    const ids = [...new Set(items.map((i) => i.claim.endpointId))];
    const rows = await trx
      .selectFrom("webhook_endpoints")
      .select(["id", "url", "failing_since", "last_success_at"])
      .where("id", "in", ids)
      .execute();
    const streaks = new Map<string, EndpointStreak>(
      rows.map((r) => {
        const failingSince = r.failing_since === null ? null : Number(r.failing_since);
        const lastSuccessAt = r.last_success_at === null ? null : Number(r.last_success_at);
        return [
          r.id,
          { url: r.url, failingSince, lastSuccessAt, read: { failingSince, lastSuccessAt }, resolve: false },
        ];
      }),
    );
    const out: RecordedAttempt[] = new Array(items.length);
    const plain: PlainRecord[] = [];
    for (const [n, i] of items.entries()) {
      const ep = streaks.get(i.claim.endpointId);
      if (!ep) {
        out[n] = { held: false };
        continue;
      }
      const attempt = i.claim.attempts + 1;
      const decision = i.decide({ failingSince: ep.failingSince, attempts: attempt });
      // An alert or a disabling has writes of its own: one by one. Every other outcome is part
      // of three statements for the whole batch (each a round trip on PostgreSQL).
      if (decision.kind === "disable" || (decision.kind !== "delivered" && attempt === FAILING_ALERT_AT))
        out[n] = await recordAttemptIn(trx, i.claim, i.attempt, i.decide, ep);
      else plain.push({ n, i, ep, attempt, decision });
    }
    const held = await recordPlain(trx, plain);
    for (const r of plain) {
      out[r.n] = held.has(r.i.claim.id) ? { held: true, decision: r.decision } : { held: false };
      if (!held.has(r.i.claim.id)) continue;
      if (r.decision.kind === "delivered") {
        if (r.ep.failingSince !== null) r.ep.resolve = true;
        r.ep.failingSince = null;
        r.ep.lastSuccessAt = r.i.attempt.now;
      } else if (r.ep.failingSince === null) r.ep.failingSince = r.i.attempt.now;
    }
    for (const [id, ep] of streaks) {
      if (ep.failingSince !== ep.read.failingSince || ep.lastSuccessAt !== ep.read.lastSuccessAt)
        await trx
          .updateTable("webhook_endpoints")
          .set({ failing_since: ep.failingSince, last_success_at: ep.lastSuccessAt })
          .where("id", "=", id)
          .execute();
      if (ep.resolve) await resolveAlertIn(trx, id, "webhook_failing", ep.lastSuccessAt ?? Date.now());
    }
    return out;
  });
}

/** An attempt's row in the delivery log. */
const attemptRow = (c: ClaimedDelivery, a: AttemptRecord, attempt: number): WebhookAttemptsTable => ({
  id: a.id,
  tenant_id: c.tenantId,
  delivery_id: c.id,
  event_id: c.eventId,
  endpoint_id: c.endpointId,
  attempt,
  request_headers: JSON.stringify(a.requestHeaders),
  response_status: a.responseStatus,
  response_headers: a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
  response_body: a.responseBody,
  error: a.error,
  latency_ms: a.latencyMs,
  created_at: a.now,
});

type PlainRecord = {
  n: number;
  i: AttemptToRecord;
  ep: EndpointStreak;
  attempt: number;
  decision: Extract<AttemptDecision, { kind: "delivered" | "retry" | "give_up" }>;
};

const ATTEMPT_ROWS = tableColumns<WebhookAttemptsTable>("webhook_attempts", {
  id: "text",
  tenant_id: "text",
  delivery_id: "text",
  event_id: "text",
  endpoint_id: "text",
  attempt: "integer",
  request_headers: "text",
  response_status: "integer",
  response_headers: "text",
  response_body: "text",
  error: "text",
  latency_ms: "integer",
  created_at: "bigint",
});

type DeliveryChange = {
  id: string;
  lease: number;
  status: "delivered" | "failed" | "pending";
  attempts: number;
  due_at: number | null;
  at: number;
  http_status: number | null;
  error: string | null;
};
const DELIVERY_CHANGES = tableColumns<DeliveryChange>("v", {
  id: "text",
  lease: "bigint",
  status: "text",
  attempts: "integer",
  due_at: "bigint",
  at: "bigint",
  http_status: "integer",
  error: "text",
});
type Finished = { endpoint_id: string; deposit_id: string };
const FINISHED = tableColumns<Finished>("v", { endpoint_id: "text", deposit_id: "text" });

/**
 * The plain attempts of a batch in three statements: their log rows; their deliveries' new
 * state, each only while its claim holds (returns the ids that held); and, for each order whose
 * delivery is done, the next one waiting behind it made due. See {@link recordAttemptIn}.
 */
async function recordPlain(trx: Db, plain: readonly PlainRecord[]): Promise<Set<string>> {
  if (plain.length === 0) return new Set();
  await runSql(
    trx,
    insertRows(
      trx,
      ATTEMPT_ROWS,
      plain.map(({ i: { claim: c, attempt: a }, attempt }) => attemptRow(c, a, attempt)),
    ),
  );
  const v = rowsAsTable(
    trx,
    DELIVERY_CHANGES,
    plain.map(({ i: { claim: c, attempt: a }, attempt, decision: d }) => ({
      id: c.id,
      lease: c.lease,
      status: d.kind === "delivered" ? "delivered" : d.kind === "retry" ? "pending" : "failed",
      attempts: attempt,
      due_at: d.kind === "retry" ? d.at : null,
      at: a.now,
      http_status: a.responseStatus,
      error: a.error,
    })),
  );
  const { rows } = await runSql<{ id: string }>(trx, {
    sql: `UPDATE webhook_deliveries SET status = v.status, attempts = v.attempts, due_at = v.due_at,
      last_attempt_at = v.at, last_http_status = v.http_status, last_error = v.error,
      delivered_at = CASE WHEN v.status = 'delivered' THEN v.at ELSE webhook_deliveries.delivered_at END
      FROM ${v.sql} WHERE webhook_deliveries.id = v.id AND webhook_deliveries.status = 'pending'
      AND webhook_deliveries.due_at = v.lease RETURNING webhook_deliveries.id`.replace(/\s+/g, " "),
    parameters: v.parameters,
  });
  const held = new Set(rows.map((r) => r.id));
  const done = plain.filter(
    (r) => r.decision.kind !== "retry" && held.has(r.i.claim.id) && r.i.claim.depositId !== null,
  );
  if (done.length > 0) {
    const f = rowsAsTable(
      trx,
      FINISHED,
      done.map((r) => ({ endpoint_id: r.i.claim.endpointId, deposit_id: r.i.claim.depositId as string })),
    );
    await runSql(trx, {
      sql: `UPDATE webhook_deliveries SET due_at = ? WHERE id IN (SELECT (SELECT x.id FROM webhook_deliveries x
        WHERE x.endpoint_id = v.endpoint_id AND x.deposit_id = v.deposit_id AND x.status = 'pending'
        AND x.due_at IS NULL ORDER BY x.seq LIMIT 1) FROM ${f.sql})`.replace(/\s+/g, " "),
      parameters: [Math.max(...done.map((r) => r.i.attempt.now)), ...f.parameters],
    });
  }
  return held;
}

/**
 * One attempt of {@link recordAttempts}: its log row, then, while the claim still holds (the
 * lease is still the due time, so no replay or other worker took the delivery meanwhile), the
 * delivery's new state and the endpoint's streak. `decide` sees the endpoint's streak as stored
 * (its first failure since the last success), read in the transaction.
 */
async function recordAttemptIn(
  trx: Db,
  c: ClaimedDelivery,
  a: AttemptRecord,
  decide: AttemptToRecord["decide"],
  ep: EndpointStreak,
): Promise<RecordedAttempt> {
  const attempt = c.attempts + 1;
  await trx
    .insertInto("webhook_attempts")
    .values(attemptRow(c, a, attempt))
    .execute();
  const failingSince = ep.failingSince;
  const decision = decide({ failingSince, attempts: attempt });
  const delivered = decision.kind === "delivered";
  const retryAt =
    decision.kind === "retry" ? decision.at : decision.kind === "disable" ? decision.retryAt : null;
  const moved = await trx
    .updateTable("webhook_deliveries")
    .set({
      status: delivered ? "delivered" : retryAt === null ? "failed" : "pending",
      attempts: attempt,
      due_at: retryAt,
      last_attempt_at: a.now,
      last_http_status: a.responseStatus,
      last_error: a.error,
      ...(delivered ? { delivered_at: a.now } : {}),
    })
    .where("id", "=", c.id)
    .where("status", "=", "pending")
    .where("due_at", "=", c.lease)
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 0) return { held: false };
  if (retryAt === null && c.depositId !== null) await promoteNext(trx, c.endpointId, c.depositId, a.now);

  if (delivered) {
    if (ep.failingSince !== null) ep.resolve = true;
    ep.failingSince = null;
    ep.lastSuccessAt = a.now;
    return { held: true, decision };
  }
  if (ep.failingSince === null) ep.failingSince = a.now;
  let alertOpened = false;
  if (attempt === FAILING_ALERT_AT)
    alertOpened = await openAlertIn(
      trx,
      {
        tenantId: c.tenantId,
        integrationId: c.endpointId,
        kind: "webhook_failing",
        data: { attempts: attempt, ...(a.responseStatus === null ? {} : { httpStatus: a.responseStatus }) },
      },
      a.now,
    );
  if (decision.kind !== "disable") return { held: true, decision, alertOpened };
  const disabled = await disableEndpointIn(trx, c, decision.reason, failingSince ?? a.now, a.now, ep.url);
  return { held: true, decision, alertOpened, disabled };
}

/**
 * Disables a failing endpoint, once (a conditional update), with its `webhook_disabled` alert
 * and the `endpoint.disabled` event to the tenant's other endpoints, in the caller's transaction.
 */
async function disableEndpointIn(
  trx: Db,
  c: Pick<ClaimedDelivery, "tenantId" | "endpointId">,
  reason: "gone" | "failing",
  failingSince: number,
  now: number,
  url: string,
): Promise<boolean> {
  const r = await trx
    .updateTable("webhook_endpoints")
    .set({ enabled: 0, disabled_reason: reason, disabled_at: now, updated_at: now })
    .where("id", "=", c.endpointId)
    .where("enabled", "=", 1)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return false;
  await parkDeliveries(trx, c.endpointId);
  await openAlertIn(
    trx,
    {
      tenantId: c.tenantId,
      integrationId: c.endpointId,
      kind: "webhook_disabled",
      data: { failingForMs: now - failingSince, ...(reason === "gone" ? { httpStatus: 410 } : {}) },
    },
    now,
  );
  const iso = (ms: number) => new Date(ms).toISOString();
  await insertWebhookEvents(trx, [
    {
      tenantId: c.tenantId,
      type: "endpoint.disabled",
      data: {
        endpointId: c.endpointId,
        url,
        reason,
        failingSince: iso(failingSince),
        disabledAt: iso(now),
      },
      now,
      exceptEndpointId: c.endpointId,
    },
  ]);
  return true;
}

/**
 * The next delivery of one order to one endpoint, waiting behind the one just done, becomes due
 * now (outbox-repo.ts writes a delivery behind a pending one without a due time).
 */
async function promoteNext(trx: Db, endpointId: string, depositId: string, now: number): Promise<void> {
  const next = await trx
    .selectFrom("webhook_deliveries")
    .select("id")
    .where("endpoint_id", "=", endpointId)
    .where("deposit_id", "=", depositId)
    .where("status", "=", "pending")
    .where("due_at", "is", null)
    .orderBy("seq")
    .limit(1)
    .executeTakeFirst();
  if (next)
    await trx.updateTable("webhook_deliveries").set({ due_at: now }).where("id", "=", next.id).execute();
}

/** A disabled endpoint's pending deliveries wait without a due time, so no claim scans them. */
export async function parkDeliveries(trx: Db, endpointId: string): Promise<void> {
  await trx
    .updateTable("webhook_deliveries")
    .set({ due_at: null })
    .where("endpoint_id", "=", endpointId)
    .where("status", "=", "pending")
    .execute();
}

/**
 * Whether delivery `d` has a pending delivery of its order to its endpoint ahead of it: the
 * ordering rule of {@link DELIVERY_QUEUE}, for the statements that hold or promote deliveries.
 */
export const earlierPendingOfOrder = (
  eb: ExpressionBuilder<Database & { d: Database["webhook_deliveries"] }, "d">,
) =>
  eb.exists(
    eb
      .selectFrom("webhook_deliveries as x")
      .select("x.id")
      .whereRef("x.endpoint_id", "=", "d.endpoint_id")
      .whereRef("x.deposit_id", "=", "d.deposit_id")
      .where("x.status", "=", "pending")
      .whereRef("x.seq", "<", "d.seq"),
  );

/**
 * Makes due every waiting delivery (of an enabled endpoint) that nothing holds back any more: no
 * pending delivery of its order before it to its endpoint. For one endpoint when it is enabled
 * again; for all, now and then, as a safety net: on PostgreSQL a delivery written while the one
 * ahead of it was being recorded can find nothing left to promote it.
 */
export async function promoteWaiting(db: Db, now: number, endpointId?: string): Promise<number> {
  let q = db
    .updateTable("webhook_deliveries as d")
    .set({ due_at: now })
    .where("d.status", "=", "pending")
    .where("d.due_at", "is", null)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("webhook_endpoints as p")
          .select("p.id")
          .whereRef("p.id", "=", "d.endpoint_id")
          .where("p.enabled", "=", 1)
          .where("p.deleted_at", "is", null),
      ),
    )
    .where((eb) => eb.or([eb("d.deposit_id", "is", null), eb.not(earlierPendingOfOrder(eb))]));
  if (endpointId !== undefined) q = q.where("d.endpoint_id", "=", endpointId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}
