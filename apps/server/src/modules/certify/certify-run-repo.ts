import { newId } from "../../common/ids.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import type { CertifyRunsTable } from "../../infra/db/schema.js";
import type { CertifyReport, ManualPrompt } from "./certify-case.js";
import {
  answerBody,
  type CertifyInbox,
  MAX_KEPT_BODY,
  MAX_KEPT_PER_ORDER,
  readLoose,
  type ScriptedAnswer,
  scriptedAnswer,
  type TokenMatch,
} from "./certify-inbox.js";

/**
 * Conformance runs from the back office (migration 0017): the runs and their reports, each
 * integration's certification, and the database inbox through which the backend's callbacks for
 * a run's test orders, arriving at the real CRM_Callback_URL in any server process, reach the
 * process running the suite. Every read is scoped by tenant.
 */

export type RunRow = CertifyRunsTable;

/** A run still "running" this long after it started has lost its process: it is interrupted. */
export const RUN_DEADLINE_MS = 20 * 60_000;

export function createCertifyRunRepo(db: Db) {
  return {
    async insert(row: RunRow): Promise<void> {
      await db.insertInto("certify_runs").values(row).execute();
    },

    /** The run of this integration still under way (within its deadline), if any. */
    async running(tenantId: string, integrationId: string, now: number): Promise<RunRow | undefined> {
      return db
        .selectFrom("certify_runs")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("integration_id", "=", integrationId)
        .where("status", "=", "running")
        .where("started_at", ">", now - RUN_DEADLINE_MS)
        .executeTakeFirst();
    },

    async find(tenantId: string, integrationId: string, runId: string): Promise<RunRow | undefined> {
      return db
        .selectFrom("certify_runs")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("integration_id", "=", integrationId)
        .where("id", "=", runId)
        .executeTakeFirst();
    },

    /** The integration's runs, newest first, without their reports. */
    async list(tenantId: string, integrationId: string, limit: number): Promise<Omit<RunRow, "report">[]> {
      return db
        .selectFrom("certify_runs")
        .select([
          "id",
          "tenant_id",
          "integration_id",
          "started_by",
          "manual",
          "status",
          "config_hash",
          "started_at",
          "finished_at",
          "certified",
          "passed",
          "failed",
          "skipped",
          "prompts",
          "error",
        ])
        .where("tenant_id", "=", tenantId)
        .where("integration_id", "=", integrationId)
        .orderBy("started_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
    },

    async addPrompt(runId: string, prompt: ManualPrompt): Promise<void> {
      await writeTransaction(db, async (trx) => {
        const row = await trx
          .selectFrom("certify_runs")
          .select("prompts")
          .where("id", "=", runId)
          .executeTakeFirst();
        const prompts = row?.prompts ? (JSON.parse(row.prompts) as ManualPrompt[]) : [];
        await trx
          .updateTable("certify_runs")
          .set({ prompts: JSON.stringify([...prompts, prompt]) })
          .where("id", "=", runId)
          .execute();
      });
    },

    /** Records the run's end: its report, or why it could not run. */
    async finish(
      runId: string,
      now: number,
      result: { report: CertifyReport } | { error: string },
    ): Promise<void> {
      const set =
        "report" in result
          ? {
              report: JSON.stringify(result.report),
              certified: result.report.certified ? (1 as const) : (0 as const),
              passed: result.report.counts.passed,
              failed: result.report.counts.failed,
              skipped: result.report.counts.skipped,
            }
          : { error: result.error, certified: 0 as const };
      await db
        .updateTable("certify_runs")
        .set({ ...set, status: "finished", finished_at: now })
        .where("id", "=", runId)
        .execute();
    },
  };
}

/** Each integration's certification state (the badge) and its live run window. */
export function createCertifyStatusRepo(db: Db) {
  const upsert = async (tenantId: string, integrationId: string, set: Record<string, unknown>) => {
    await db
      .insertInto("certify_status")
      .values({
        integration_id: integrationId,
        tenant_id: tenantId,
        live_until: null,
        certified_hash: null,
        certified_at: null,
        certified_run_id: null,
        ...set,
      })
      .onConflict((oc) => oc.column("integration_id").doUpdateSet(set))
      .execute();
  };
  return {
    /** Opens (or, with null, closes) the window in which test orders are called back. */
    setLive: (tenantId: string, integrationId: string, until: number | null) =>
      upsert(tenantId, integrationId, { live_until: until }),
    markCertified: (tenantId: string, integrationId: string, hash: string, runId: string, at: number) =>
      upsert(tenantId, integrationId, { certified_hash: hash, certified_at: at, certified_run_id: runId }),
    async forTenant(tenantId: string) {
      return db.selectFrom("certify_status").selectAll().where("tenant_id", "=", tenantId).execute();
    },
  };
}

/**
 * The database inbox of one run: test orders are registered in `certify_orders`; their
 * callbacks, taken by {@link receiveTestCallback} in whichever process they reach, are read
 * back from `certify_callbacks`. Registration waits until `readyAt`, when every process's
 * integration lookup has seen the run's window open.
 */
export function createDbInbox(
  db: Db,
  run: { id: string; tenantId: string; integrationId: string },
  readyAt: number,
  now: () => number,
): CertifyInbox {
  return {
    async expect(order) {
      const wait = readyAt - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await db
        .insertInto("certify_orders")
        .values({
          integration_id: run.integrationId,
          order_no: order.orderNo,
          tenant_id: run.tenantId,
          run_id: run.id,
          script: order.script,
          amount_minor: Number(order.amountMinor),
          received: 0,
          created_at: now(),
        })
        .execute();
    },
    async received(orderNo) {
      const rows = await db
        .selectFrom("certify_callbacks")
        .selectAll()
        .where("run_id", "=", run.id)
        .where("order_no", "=", orderNo)
        .orderBy("seq")
        .execute();
      return rows.map((r) => ({
        at: Number(r.received_at),
        rawBody: r.raw_body,
        contentType: r.content_type,
        token: r.token,
        answer: { status: r.answer_status, body: r.answer_body },
      }));
    },
  };
}

/**
 * A callback whose token matched, for an order of a live run of its integration: counted,
 * kept and answered by the order's script. Undefined when the order is not a test order (the
 * callback then goes on as any other). Never applies anything.
 */
export async function receiveTestCallback(
  db: Db,
  c: {
    integrationId: string;
    orderNo: string;
    rawBody: string;
    contentType: string | null;
    token: TokenMatch;
    now: number;
  },
): Promise<ScriptedAnswer | undefined> {
  return writeTransaction(db, async (trx) => {
    // One statement counts the callback: concurrent ones get distinct numbers on both databases.
    const order = await trx
      .updateTable("certify_orders")
      .set((eb) => ({ received: eb("received", "+", 1) }))
      .where("integration_id", "=", c.integrationId)
      .where("order_no", "=", c.orderNo)
      .returning(["run_id", "script", "amount_minor", "received"])
      .executeTakeFirst();
    if (!order) return undefined;
    const answer = scriptedAnswer(
      { orderNo: c.orderNo, script: order.script, amountMinor: BigInt(order.amount_minor) },
      order.received - 1,
      readLoose(c.rawBody, c.contentType)?.params,
      c.token,
    );
    if (order.received <= MAX_KEPT_PER_ORDER)
      await trx
        .insertInto("certify_callbacks")
        .values({
          id: newId(),
          run_id: order.run_id,
          order_no: c.orderNo,
          seq: order.received,
          received_at: c.now,
          raw_body: c.rawBody.slice(0, MAX_KEPT_BODY),
          content_type: c.contentType,
          token: c.token,
          answer_status: answer.status,
          answer_body: answerBody(answer),
        })
        .execute();
    return answer;
  });
}
