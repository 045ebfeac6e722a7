import type { AppContext } from "../../app-context.js";
import { openAlert, openAlertKeys, openKey, resolveAlert } from "./alert-repo.js";
import { DEFAULT_THRESHOLDS, detect, type Thresholds } from "./health-detectors.js";
import { totalsByIntegration } from "./health-figures.js";
import { MINUTE_MS, rollUpHealth } from "./health-rollup.js";

const DAY_MS = 24 * 60 * MINUTE_MS;
/** Minutes older than this are deleted: the detectors look 7 days back. */
export const KEEP_MINUTES_MS = 8 * DAY_MS;

/**
 * Runs every detector on every integration and opens or resolves its alerts. Safe in several
 * processes at once (alert-repo.ts). Reads only the per-minute rollup: a dozen grouped queries
 * whatever the number of integrations.
 */
export async function runDetectors(
  ctx: Pick<AppContext, "db" | "clock">,
  th: Thresholds = DEFAULT_THRESHOLDS,
): Promise<{ opened: number; resolved: number }> {
  const now = ctx.clock.now();
  const to = now - (now % MINUTE_MS) + MINUTE_MS;
  const sum = (from: number, until: number) =>
    totalsByIntegration(ctx.db, { from, to: until, histograms: false });
  const silence = await sum(to - th.silenceMinutes * MINUTE_MS, to);
  const recent = await sum(to - 5 * MINUTE_MS, to);
  const baseline = await sum(to - DAY_MS, to - 5 * MINUTE_MS);
  const sameHour = [];
  for (let d = 1; d <= 7; d++)
    sameHour.push(await sum(to - d * DAY_MS - 30 * MINUTE_MS, to - d * DAY_MS + 30 * MINUTE_MS));

  const integrations = await ctx.db.selectFrom("psp_integrations").select(["id", "tenant_id"]).execute();
  const open = await openAlertKeys(ctx.db);
  let opened = 0;
  let resolved = 0;
  for (const i of integrations) {
    const s = silence.get(i.id);
    const r = recent.get(i.id);
    const b = baseline.get(i.id);
    const callbacksOf = (t: typeof s) =>
      t ? t.callbacks.accepted + t.callbacks.duplicate + t.callbacks.rejected + t.callbacks.review : 0;
    const verdicts = detect(
      {
        silence: { urlsIssued: s?.urlsIssued ?? 0, callbacks: callbacksOf(s) },
        sameHourCallbacks: sameHour.map((m) => callbacksOf(m.get(i.id))),
        recent: {
          api1Ok: r?.api1Ok ?? 0,
          api1Failed: r?.api1Failed ?? 0,
          signatureFailures: r?.signatureFailures ?? 0,
          amountMismatches: r?.amountMismatches ?? 0,
        },
        baseline: {
          signatureFailures: b?.signatureFailures ?? 0,
          amountMismatches: b?.amountMismatches ?? 0,
        },
      },
      th,
    );
    for (const v of verdicts) {
      const isOpen = open.has(openKey(i.id, v.kind));
      if (v.open && !isOpen) {
        if (
          await openAlert(
            ctx.db,
            { tenantId: i.tenant_id, integrationId: i.id, kind: v.kind, data: v.data },
            now,
          )
        )
          opened++;
      } else if (!v.open && isOpen) {
        if (await resolveAlert(ctx.db, i.id, v.kind, now)) resolved++;
      }
    }
  }
  return { opened, resolved };
}

/** The BACKGROUND_JOBS entry (main.ts): roll the figures up, prune old minutes, run the detectors. */
export async function integrationHealthJob(ctx: Pick<AppContext, "db" | "clock" | "logger">): Promise<void> {
  await rollUpHealth(ctx);
  await ctx.db
    .deleteFrom("integration_health_minutes")
    .where("minute", "<", ctx.clock.now() - KEEP_MINUTES_MS)
    .execute();
  const { opened, resolved } = await runDetectors(ctx);
  if (opened + resolved > 0) ctx.logger.info({ opened, resolved }, "integration alerts changed");
}
