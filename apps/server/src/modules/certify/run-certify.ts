import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError } from "../../common/errors.js";
import { newId, newOrderNo } from "../../common/ids.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { decodeJson, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { acceptedTokens, toIntegration } from "../psp-integrations/integration-model.js";
import { CALLBACK_INTEGRATION_TTL_MS, createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import type { CertifyDeps, CertifyReport } from "./certify-case.js";
import { certifyConfigHash } from "./certify-config-hash.js";
import {
  createCertifyRunRepo,
  createCertifyStatusRepo,
  createDbInbox,
  RUN_DEADLINE_MS,
  type RunRow,
} from "./certify-run-repo.js";
import { runCertify } from "./certify-suite.js";

/**
 * "Run conformance tests" on an integration (docs/certify.md#from-the-back-office): the suite
 * against the integration's own backend, with its real token and keys, while the backend's
 * callbacks for the run's test orders arrive at the real CRM_Callback_URL and are routed to
 * the run. The run goes on in the background of the process that started it; its report lands
 * in `certify_runs`, and a run that certifies marks the integration's configuration hash.
 */

type Ctx = Pick<
  AppContext,
  "db" | "clock" | "config" | "secretBox" | "httpOut" | "callbackIntegrations" | "logger"
>;

/** In manual mode, how long the run waits for the admin to act on each payment page. */
export const MANUAL_WAIT_MS = 10 * 60_000;

export type StartedRun = { run: RunRow; done: Promise<void> };

export async function startCertifyRun(
  ctx: Ctx,
  actor: AdminActor,
  integrationId: string,
  options: { manual: boolean; waits?: CertifyDeps["waits"] },
): Promise<StartedRun> {
  const now = ctx.clock.now();
  const runs = createCertifyRunRepo(ctx.db);
  const { run, target } = await writeTransaction(ctx.db, async (trx) => {
    const row = await createIntegrationRepo(trx).find(actor.tenantId, integrationId, { forUpdate: true });
    if (!row) throw new NotFoundError("Integration");
    if (await createCertifyRunRepo(trx).running(actor.tenantId, integrationId, now))
      throw new ConflictError(
        "A conformance run of this integration is already under way",
        "certify_run_running",
      );
    const integration = toIntegration(row);
    const [token, previousToken] = acceptedTokens(row, ctx.secretBox, now);
    const run: RunRow = {
      id: newId(),
      tenant_id: actor.tenantId,
      integration_id: integrationId,
      started_by: actor.audit.id,
      manual: options.manual ? 1 : 0,
      status: "running",
      config_hash: certifyConfigHash(integration),
      started_at: now,
      finished_at: null,
      certified: null,
      passed: null,
      failed: null,
      skipped: null,
      prompts: null,
      report: null,
      error: null,
    };
    await createCertifyRunRepo(trx).insert(run);
    await createCertifyStatusRepo(trx).setLive(actor.tenantId, integrationId, now + RUN_DEADLINE_MS);
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.certify",
        targetType: "psp_integration",
        targetId: integrationId,
        after: { runId: run.id, manual: options.manual },
        ip: actor.ip,
      },
      now,
    );
    // A backend that pays out (a live withdrawal method names it) is tested on payouts too, with
    // an example value for each field of that method.
    const payoutMethod = await trx
      .selectFrom("withdrawal_methods")
      .select("fields")
      .where("tenant_id", "=", actor.tenantId)
      .where("integration_id", "=", integrationId)
      .where("payout_mode", "=", "integration")
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    const payoutFields = payoutMethod
      ? Object.fromEntries(
          decodeJson<Array<{ key: string }>>(payoutMethod.fields, []).map((f) => [
            f.key,
            f.key === "iban" ? "DE89370400440532013000" : `test-${f.key}`,
          ]),
        )
      : undefined;
    const target = {
      ...(payoutFields ? { payouts: true, payoutFields } : {}),
      appUrl: integration.appUrl,
      merchantId: integration.merchantId,
      token: token!,
      ...(previousToken ? { previousToken } : {}),
      paramConfig: integration.paramConfig,
      customKeys: integration.customParams.map((p) => p.key),
      statusQuery: integration.statusQuery.enabled,
      allowHttpUrls: ctx.config.allowHttpPaymentUrls,
    };
    return { run, target };
  });
  // This process sees the open window at once; every other one within the lookup's TTL, which
  // the inbox waits out before the first test order.
  ctx.callbackIntegrations.changed();
  const clock = () => ctx.clock.now();
  const inbox = createDbInbox(
    ctx.db,
    { id: run.id, tenantId: actor.tenantId, integrationId },
    now + CALLBACK_INTEGRATION_TTL_MS + 250,
    clock,
  );

  let prompted: Promise<void> = Promise.resolve();
  const done = (async () => {
    let result: { report: CertifyReport } | { error: string };
    try {
      const report = await runCertify(target, {
        http: ctx.httpOut,
        now: clock,
        newOrderNo,
        inbox,
        ...(options.waits ? { waits: options.waits } : {}),
        ...(options.manual
          ? {
              manual: {
                waitMs: MANUAL_WAIT_MS,
                // One after another: each rewrites the run's list of prompts.
                ask: (p) => {
                  prompted = prompted.then(() => runs.addPrompt(run.id, p)).catch(() => {});
                },
              },
            }
          : {}),
      });
      result = { report };
    } catch (error) {
      ctx.logger.error({ err: error, runId: run.id }, "conformance run failed");
      result = { error: "the run stopped on an internal error; run it again" };
    }
    try {
      await runs.finish(run.id, ctx.clock.now(), result);
      const status = createCertifyStatusRepo(ctx.db);
      await status.setLive(actor.tenantId, integrationId, null);
      ctx.callbackIntegrations.changed();
      if ("report" in result && result.report.certified) {
        // Certified only if the configuration did not change while the run went on.
        const row = await createIntegrationRepo(ctx.db).find(actor.tenantId, integrationId);
        if (row && certifyConfigHash(toIntegration(row)) === run.config_hash)
          await status.markCertified(actor.tenantId, integrationId, run.config_hash, run.id, ctx.clock.now());
      }
    } catch (error) {
      ctx.logger.error({ err: error, runId: run.id }, "could not record the end of a conformance run");
    }
  })();
  return { run, done };
}
