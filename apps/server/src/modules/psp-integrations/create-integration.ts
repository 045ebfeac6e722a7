import { defaultApi1ParamConfig } from "@psphub/protocol/admin";
import type { AppContext } from "../../app-context.js";
import { type FieldIssue, ValidationError } from "../../common/errors.js";
import { newId, newIntegrationToken, newMerchantId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { encodeJson, fromBool, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { checkedAppUrl } from "./app-url.js";
import { statusQueryColumns } from "./integration-model.js";
import { createIntegrationRepo, type IntegrationRow } from "./integration-repo.js";
import {
  type CreateIntegrationInput,
  createIntegrationInput,
  type IntegrationView,
} from "./integration-schemas.js";
import { auditSnapshot, integrationView } from "./integration-view.js";
import { buildParamSetup } from "./param-setup.js";

/**
 * Creates a PSP integration. The CRM generates `merchant_id` and the token; the token is
 * stored only sealed by the secret box and is shown by reveal alone.
 */
export async function createIntegration(
  ctx: Pick<AppContext, "db" | "clock" | "config" | "secretBox">,
  actor: AdminActor,
  input: CreateIntegrationInput,
): Promise<IntegrationView> {
  const data = parseInput(createIntegrationInput, input);
  const issues: FieldIssue[] = [];
  const url = await checkedAppUrl(ctx, data.appUrl);
  if (!url.ok) issues.push(url.issue);
  const setup = buildParamSetup(defaultApi1ParamConfig(), data.paramConfig, data.customParams);
  issues.push(...setup.issues);
  if (issues.length > 0 || !url.ok) throw new ValidationError("The integration settings are invalid", issues);

  const now = ctx.clock.now();
  const row: IntegrationRow = {
    id: newId(),
    tenant_id: actor.tenantId,
    name: data.name,
    enabled: fromBool(data.enabled),
    app_url: url.appUrl,
    merchant_id: newMerchantId(),
    token_enc: ctx.secretBox.seal(newIntegrationToken()),
    prev_token_enc: null,
    prev_token_expires_at: null,
    token_rotated_at: null,
    api1_timeout_ms: data.api1TimeoutMs,
    amount_policy: data.amountPolicy,
    param_config: encodeJson(setup.paramConfig),
    custom_params: encodeJson(setup.customParams),
    ...statusQueryColumns(data.statusQuery),
    created_at: now,
    updated_at: now,
  };
  await writeTransaction(ctx.db, async (trx) => {
    await createIntegrationRepo(trx).insert(row);
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "integration.create",
        targetType: "psp_integration",
        targetId: row.id,
        after: auditSnapshot(row),
        ip: actor.ip,
      },
      now,
    );
  });
  return integrationView(row, now, ctx.config.publicBaseUrl);
}
