import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { BREAKER_POLICY } from "./breaker-policy.js";
import {
  addEvent,
  close,
  modeOf,
  readBreaker,
  recentEvents,
  setMode,
  stateOf,
  windowCounts,
} from "./breaker-repo.js";

/** The integration page's breaker panel, closing it by hand, and its mode (audited). */

type Ctx = Pick<AppContext, "db" | "clock" | "api1Breakers">;

const RECENT_EVENTS = 20;

export const breakerModeInput = z.object({ mode: z.enum(["off", "dry_run", "on"]) });

export const breakerOut = z.object({
  mode: z.enum(["off", "dry_run", "on"]).describe("off: never refuses; dry_run: records what it would do"),
  state: z.enum(["closed", "open", "half_open"]),
  openedAt: z.number().nullable().describe("epoch ms"),
  reason: z.string().nullable().describe("why it opened"),
  probeUntil: z.number().nullable().describe("half-open: the probe's lease end, epoch ms"),
  window: z.object({ calls: z.number(), failures: z.number() }).describe("API-1 calls in the last 5 minutes"),
  policy: z.object({
    windowMs: z.number(),
    minFailures: z.number(),
    failureRate: z.number(),
    coolDownMs: z.number(),
  }),
  events: z.array(
    z.object({
      at: z.number(),
      kind: z.enum(["opened", "half_open", "closed", "closed_by_hand", "would_refuse", "mode"]),
      dryRun: z.boolean(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});
export type BreakerView = z.output<typeof breakerOut>;

async function ownIntegration(ctx: Ctx, tenantId: string, id: string): Promise<void> {
  if (!(await createIntegrationRepo(ctx.db).find(tenantId, id))) throw new NotFoundError("Integration");
}

export async function getBreaker(ctx: Ctx, tenantId: string, integrationId: string): Promise<BreakerView> {
  await ownIntegration(ctx, tenantId, integrationId);
  const now = ctx.clock.now();
  // This process's answers not written yet: the window shown includes them.
  await ctx.api1Breakers.flush(now);
  const row = await readBreaker(ctx.db, integrationId);
  const s = stateOf(row);
  const p = BREAKER_POLICY;
  return {
    mode: modeOf(row),
    state: s.state,
    openedAt: s.state === "closed" ? null : s.openedAt,
    reason: s.state === "closed" ? null : s.reason,
    probeUntil: s.state === "half_open" ? s.probeUntil : null,
    window: await windowCounts(ctx.db, integrationId, now - p.windowMs),
    policy: {
      windowMs: p.windowMs,
      minFailures: p.minFailures,
      failureRate: p.failureRate,
      coolDownMs: p.coolDownMs,
    },
    events: await recentEvents(ctx.db, { tenantId, integrationId }, RECENT_EVENTS),
  };
}

/** Closes the breaker by hand (the backend is known to be back), audited; closed already: nothing. */
export async function closeBreakerByHand(
  ctx: Ctx,
  actor: AdminActor,
  integrationId: string,
): Promise<BreakerView> {
  await ownIntegration(ctx, actor.tenantId, integrationId);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    const before = stateOf(await readBreaker(trx, integrationId));
    if (!(await close(trx, integrationId, now))) return;
    const t = { tenantId: actor.tenantId, integrationId };
    await addEvent(trx, t, now, "closed_by_hand", false, { by: actor.audit.id });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.breaker_close",
        targetType: "psp_integration",
        targetId: integrationId,
        before: { state: before.state, reason: before.state === "closed" ? null : before.reason },
        after: { state: "closed" },
        ip: actor.ip,
      },
      now,
    );
  });
  ctx.api1Breakers.changed();
  return getBreaker(ctx, actor.tenantId, integrationId);
}

export async function setBreakerMode(
  ctx: Ctx,
  actor: AdminActor,
  integrationId: string,
  input: z.input<typeof breakerModeInput>,
): Promise<BreakerView> {
  const { mode } = parseInput(breakerModeInput, input);
  await ownIntegration(ctx, actor.tenantId, integrationId);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    const before = modeOf(await readBreaker(trx, integrationId));
    if (before === mode) return;
    const t = { tenantId: actor.tenantId, integrationId };
    await setMode(trx, t, now, mode);
    await addEvent(trx, t, now, "mode", false, { from: before, to: mode });
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.breaker_mode",
        targetType: "psp_integration",
        targetId: integrationId,
        before: { mode: before },
        after: { mode },
        ip: actor.ip,
      },
      now,
    );
  });
  ctx.api1Breakers.changed();
  return getBreaker(ctx, actor.tenantId, integrationId);
}
