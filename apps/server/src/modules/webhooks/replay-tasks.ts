import type { Selectable } from "kysely";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import type { WebhookReplaysTable } from "../../infra/db/schema.js";
import { claimDue, claimStatement } from "../../infra/jobs/job-claim.js";
import { type JobLoop, startJobLoop } from "../../infra/jobs/job-loop.js";
import { recordAudit } from "../audit/audit-repo.js";
import { earlierPendingOfOrder } from "./delivery-repo.js";
import { findEndpoint } from "./endpoint-repo.js";
import type { ReplayView } from "./endpoint-schemas.js";
import { eventTypesOf } from "./webhook-event-types.js";

/**
 * Replays of a time range and the recovery of a re-enabled endpoint: a task row, run in the
 * background by the job mechanism (infra/jobs) in chunks of {@link CHUNK} events, each chunk
 * requeueing the deliveries of its events (pending, due now, attempts from 0) and moving the
 * task's cursor and progress. A process that dies mid-chunk leaves the lease to expire; the
 * chunk runs again, which requeues the same deliveries once more (at least once).
 */

const CHUNK = 500;
const LEASE_MS = 60_000;

type TaskRow = Selectable<WebhookReplaysTable>;

export const replayView = (r: TaskRow): ReplayView => ({
  id: r.id,
  endpointId: r.endpoint_id,
  kind: r.kind,
  from: Number(r.from_at),
  to: Number(r.to_at),
  eventType: r.event_type,
  onlyFailed: Number(r.only_failed) === 1,
  state: r.state,
  total: Number(r.total),
  done: Number(r.done),
  createdAt: Number(r.created_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

type Range = { from: number; to: number; eventType?: string | null; onlyFailed: boolean };

/** The events a task covers (in `(from, to]`, of the endpoint's subscription), after `cursor`. */
function coveredEvents(db: Db, tenantId: string, subscription: string, r: Range) {
  let q = db
    .selectFrom("webhook_events")
    .where("tenant_id", "=", tenantId)
    .where("created_at", ">", r.from)
    .where("created_at", "<=", r.to)
    // Test events belong to the endpoint they were sent to; they are not replayed by range.
    .where("type", "<>", "webhook.test");
  if (r.eventType) q = q.where("type", "=", r.eventType);
  const types = eventTypesOf(subscription);
  if (!types.includes("*")) q = q.where("type", "in", types);
  return q;
}

/** Creates a task in the caller's transaction (enable with recovery runs it in its own). */
export async function createReplayIn(
  trx: Db,
  actor: AdminActor,
  endpointId: string,
  r: Range & { kind: "replay" | "recover" },
  now: number,
): Promise<ReplayView> {
  const ep = await trx
    .selectFrom("webhook_endpoints")
    .select("event_types")
    .where("tenant_id", "=", actor.tenantId)
    .where("id", "=", endpointId)
    .executeTakeFirstOrThrow();
  const { n } = await coveredEvents(trx, actor.tenantId, ep.event_types, r)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const row: TaskRow = {
    id: newId(),
    tenant_id: actor.tenantId,
    endpoint_id: endpointId,
    kind: r.kind,
    from_at: r.from,
    to_at: r.to,
    event_type: r.eventType ?? null,
    only_failed: r.onlyFailed ? 1 : 0,
    state: Number(n) === 0 ? "done" : "running",
    cursor: null,
    total: Number(n),
    done: 0,
    due_at: Number(n) === 0 ? null : now,
    created_by: actor.audit.id,
    created_at: now,
    finished_at: Number(n) === 0 ? now : null,
  };
  await trx.insertInto("webhook_replays").values(row).execute();
  await recordAudit(
    trx,
    {
      tenantId: actor.tenantId,
      actor: actor.audit,
      action: `webhook_endpoint.${r.kind}`,
      targetType: "webhook_endpoint",
      targetId: endpointId,
      after: {
        replayId: row.id,
        from: r.from,
        to: r.to,
        eventType: r.eventType ?? null,
        onlyFailed: r.onlyFailed,
        events: row.total,
      },
      ip: actor.ip,
    },
    now,
  );
  return replayView(row);
}

/** `POST …/replays`: a replay of a time range to one endpoint, run in the background. */
export async function replayRange(
  ctx: Pick<AppContext, "db" | "clock">,
  actor: AdminActor,
  endpointId: string,
  r: Omit<Range, "eventType"> & { eventType?: string },
): Promise<ReplayView> {
  if (!(await findEndpoint(ctx.db, actor.tenantId, endpointId))) throw new NotFoundError("Webhook endpoint");
  return writeTransaction(ctx.db, (trx) =>
    createReplayIn(trx, actor, endpointId, { kind: "replay", ...r }, ctx.clock.now()),
  );
}

/** The endpoint's latest tasks, newest first. */
export async function listReplays(db: Db, tenantId: string, endpointId: string): Promise<ReplayView[]> {
  if (!(await findEndpoint(db, tenantId, endpointId))) throw new NotFoundError("Webhook endpoint");
  const rows = await db
    .selectFrom("webhook_replays")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "=", endpointId)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  return rows.map(replayView);
}

const REPLAY_QUEUE = claimStatement({
  table: "webhook_replays",
  due: "due_at",
  where: "job.state = 'running'",
});

/**
 * Requeued deliveries that may not be sent yet wait without a due time, as outbox-repo.ts writes
 * them, so the claim never scans them: all of a disabled endpoint's (promoted when it is enabled),
 * and those behind a pending delivery of their order to the same endpoint (promoted when that one
 * is done, delivery-repo.ts). Only the rows just requeued: a claimed row's lease is left alone.
 */
export async function holdRequeued(
  trx: Db,
  endpointId: string,
  deliveryIds: readonly string[],
): Promise<void> {
  if (deliveryIds.length === 0) return;
  const ep = await trx
    .selectFrom("webhook_endpoints")
    .select(["enabled", "deleted_at"])
    .where("id", "=", endpointId)
    .executeTakeFirst();
  const sendable = ep !== undefined && Number(ep.enabled) === 1 && ep.deleted_at === null;
  let q = trx
    .updateTable("webhook_deliveries as d")
    .set({ due_at: null })
    .where("d.id", "in", deliveryIds)
    .where("d.status", "=", "pending");
  if (sendable) q = q.where("d.deposit_id", "is not", null).where(earlierPendingOfOrder);
  await q.execute();
}

/** One chunk of a claimed task: its deliveries requeued, its cursor and progress moved on. */
export async function runReplayChunk(
  deps: Pick<AppContext, "db" | "clock">,
  id: string,
  lease: number,
  chunk = CHUNK,
): Promise<void> {
  const now = deps.clock.now();
  await writeTransaction(deps.db, async (trx) => {
    const task = await trx
      .selectFrom("webhook_replays")
      .selectAll()
      .where("id", "=", id)
      .where("due_at", "=", lease)
      .executeTakeFirst();
    if (!task) return;
    const ep = await trx
      .selectFrom("webhook_endpoints")
      .select(["event_types", "deleted_at"])
      .where("id", "=", task.endpoint_id)
      .executeTakeFirstOrThrow();
    const range = {
      from: Number(task.from_at),
      to: Number(task.to_at),
      eventType: task.event_type,
      onlyFailed: Number(task.only_failed) === 1,
    };
    let q = coveredEvents(trx, task.tenant_id, ep.event_types, range).select([
      "id",
      "type",
      "deposit_id",
      "seq",
      "data",
      "created_at",
    ]);
    if (task.cursor !== null) q = q.where("id", ">", task.cursor);
    const events = ep.deleted_at === null ? await q.orderBy("id").limit(chunk).execute() : [];
    const ids = events.map((e) => `${e.id}:${task.endpoint_id}`);
    const kept = new Map(
      ids.length === 0
        ? []
        : (
            await trx
              .selectFrom("webhook_deliveries")
              .select(["id", "status"])
              .where("id", "in", ids)
              .execute()
          ).map((d) => [d.id, d.status]),
    );
    const requeued: string[] = [];
    for (const e of events) {
      // The event that announced this endpoint's own disabling went to the others only.
      if (
        e.type === "endpoint.disabled" &&
        (JSON.parse(e.data) as { endpointId?: string }).endpointId === task.endpoint_id
      )
        continue;
      const deliveryId = `${e.id}:${task.endpoint_id}`;
      const status = kept.get(deliveryId);
      if (range.onlyFailed && (status === "delivered" || status === "pending")) continue;
      await trx
        .insertInto("webhook_deliveries")
        .values({
          id: deliveryId,
          tenant_id: task.tenant_id,
          event_id: e.id,
          endpoint_id: task.endpoint_id,
          deposit_id: e.deposit_id,
          seq: e.seq,
          status: "pending",
          attempts: 0,
          due_at: now,
          last_attempt_at: null,
          last_http_status: null,
          last_error: null,
          delivered_at: null,
          created_at: now,
        })
        .onConflict((oc) =>
          oc.column("id").doUpdateSet({ status: "pending", attempts: 0, due_at: now, delivered_at: null }),
        )
        .execute();
      requeued.push(deliveryId);
    }
    await holdRequeued(trx, task.endpoint_id, requeued);
    const finished = events.length < chunk;
    await trx
      .updateTable("webhook_replays")
      .set({
        cursor: events.at(-1)?.id ?? task.cursor,
        done: finished ? Number(task.total) : Number(task.done) + events.length,
        state: finished ? "done" : "running",
        due_at: finished ? null : now,
        finished_at: finished ? now : null,
      })
      .where("id", "=", id)
      .where("due_at", "=", lease)
      .execute();
  });
}

/** Claims due tasks and runs one chunk of each; resolves when all are done (tests, the loop). */
export async function runDueReplays(
  deps: Pick<AppContext, "db" | "clock">,
  limit: number,
  chunk = CHUNK,
): Promise<number> {
  const { ids, lease } = await claimDue(deps.db, REPLAY_QUEUE, deps.clock.now(), limit, LEASE_MS);
  for (const id of ids) await runReplayChunk(deps, id, lease, chunk);
  return ids.length;
}

/** The replay loop of one process: one task at a time, a chunk per claim. */
export function startReplayWorker(
  deps: Pick<AppContext, "db" | "clock" | "logger">,
  pollMs: number,
): JobLoop {
  return startJobLoop({
    pollMs,
    concurrency: 1,
    claim: async () => {
      const { ids, lease } = await claimDue(deps.db, REPLAY_QUEUE, deps.clock.now(), 1, LEASE_MS);
      return ids.map((id) => ({ id, lease }));
    },
    run: async (c) => {
      try {
        await runReplayChunk(deps, c.id, c.lease);
      } catch (err) {
        deps.logger.error({ err, replayId: c.id }, "webhook replay chunk failed");
      }
    },
    onClaimError: (err) => deps.logger.error({ err }, "webhook replay claim failed"),
  });
}
