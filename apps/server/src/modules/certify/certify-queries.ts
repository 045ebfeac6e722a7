import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { toBool } from "../../infra/db/database.js";
import { toIntegration } from "../psp-integrations/integration-model.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import type { CertifyReport, ManualPrompt } from "./certify-case.js";
import { certifyConfigHash } from "./certify-config-hash.js";
import {
  createCertifyRunRepo,
  createCertifyStatusRepo,
  RUN_DEADLINE_MS,
  type RunRow,
} from "./certify-run-repo.js";
import type { RunView } from "./certify-schemas.js";

// What the back office reads of conformance runs and certifications; every read scoped by tenant.

type Ctx = Pick<AppContext, "db" | "clock">;
const HISTORY = 50;

function runView(row: Omit<RunRow, "report">, now: number, currentHash: string): RunView {
  const lost = row.status === "running" && row.started_at <= now - RUN_DEADLINE_MS;
  return {
    id: row.id,
    integrationId: row.integration_id,
    status: lost ? "interrupted" : row.status,
    manual: toBool(row.manual),
    startedAt: Number(row.started_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    startedBy: row.started_by,
    certified: row.certified === null ? null : toBool(row.certified),
    counts:
      row.passed === null ? null : { passed: row.passed, failed: row.failed ?? 0, skipped: row.skipped ?? 0 },
    prompts: row.prompts ? (JSON.parse(row.prompts) as ManualPrompt[]) : [],
    error: row.error,
    currentConfig: row.config_hash === currentHash,
  };
}

/** The integration's current configuration hash; another tenant's id is 404 like a missing one. */
async function currentHash(ctx: Ctx, tenantId: string, integrationId: string): Promise<string> {
  const row = await createIntegrationRepo(ctx.db).find(tenantId, integrationId);
  if (!row) throw new NotFoundError("Integration");
  return certifyConfigHash(toIntegration(row));
}

export async function listCertifyRuns(ctx: Ctx, tenantId: string, integrationId: string): Promise<RunView[]> {
  const hash = await currentHash(ctx, tenantId, integrationId);
  const rows = await createCertifyRunRepo(ctx.db).list(tenantId, integrationId, HISTORY);
  return rows.map((r) => runView(r, ctx.clock.now(), hash));
}

export async function getCertifyRun(
  ctx: Ctx,
  tenantId: string,
  integrationId: string,
  runId: string,
): Promise<RunView & { report: CertifyReport | null }> {
  const hash = await currentHash(ctx, tenantId, integrationId);
  const row = await createCertifyRunRepo(ctx.db).find(tenantId, integrationId, runId);
  if (!row) throw new NotFoundError("Conformance run");
  return {
    ...runView(row, ctx.clock.now(), hash),
    report: row.report ? (JSON.parse(row.report) as CertifyReport) : null,
  };
}

/** Each integration's badge: certified while its configuration hashes as the certifying run's. */
export async function certificationStatus(ctx: Ctx, tenantId: string) {
  const [integrations, states] = await Promise.all([
    createIntegrationRepo(ctx.db).list(tenantId),
    createCertifyStatusRepo(ctx.db).forTenant(tenantId),
  ]);
  const byId = new Map(states.map((s) => [s.integration_id, s]));
  return integrations.map((row) => {
    const s = byId.get(row.id);
    const certified = !!s?.certified_hash && s.certified_hash === certifyConfigHash(toIntegration(row));
    return {
      integrationId: row.id,
      certified,
      certifiedAt: certified && s?.certified_at != null ? Number(s.certified_at) : null,
      stale: !!s?.certified_hash && !certified,
    };
  });
}
