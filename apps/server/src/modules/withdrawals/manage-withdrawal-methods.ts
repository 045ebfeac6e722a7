import { isPayoutRequestKey, tryParseAmount } from "@psphub/protocol";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { type FieldIssue, NotFoundError, ValidationError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { plainDecimal } from "../../common/plain-decimal.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { type Db, encodeJson, fromBool, writeTransaction } from "../../infra/db/database.js";
import type { WithdrawalMethodsTable } from "../../infra/db/schema.js";
import { recordAudit } from "../audit/audit-repo.js";
import { exponentsInUse, lockTenantExponents } from "../clients/currency-decimals.js";
import { exponentIssues } from "../deposit-methods/currency-exponents.js";
import { currencyInput, parseCurrencies } from "../deposit-methods/method-currencies.js";
import { checkVisibility } from "../deposit-methods/method-settings.js";
import { createIntegrationRepo } from "../psp-integrations/integration-repo.js";
import { policyProblems } from "./approval-policy.js";
import {
  type ApprovalSettings,
  encodeApproval,
  encodeCurrencies,
  policyFor,
  toWithdrawalMethod,
  type WithdrawalCurrency,
  type WithdrawalMethod,
} from "./withdrawal-model.js";

/**
 * The back office's withdrawal methods (docs/withdrawals.md#withdrawal-methods): created and
 * changed with the same checks as deposit methods for their currencies (ISO decimals, limits,
 * fees, and the tenant's decimals already in use), plus the client's fields, the payout mode and
 * the approval policy, checked against every currency of the method. Audited.
 */

const ROLES = ["owner", "admin", "finance", "viewer"] as const;

export const withdrawalMethodInput = z
  .object({
    name: z.string().trim().min(1).max(100),
    enabled: z.boolean().default(true),
    currencies: z
      .array(currencyInput.omit({ conversion: true }))
      .min(1)
      .max(20),
    fields: z
      .array(
        z.object({
          key: z
            .string()
            .regex(/^[a-z][a-z0-9_]{0,39}$/, "lower-case letters, digits and _, starting with a letter"),
          label: z.string().trim().min(1).max(100),
          required: z.boolean().default(true),
        }),
      )
      .max(10)
      .default([]),
    visibility: z.enum(["all", "groups"]).default("all"),
    clientGroups: z.array(z.string().trim().min(1).max(50)).max(50).default([]),
    payoutMode: z.enum(["manual", "integration"]).default("manual"),
    integrationId: z.string().min(1).max(100).nullable().default(null),
    approval: z.object({
      bands: z
        .array(z.object({ from: plainDecimal, levels: z.number().int() }))
        .min(1)
        .max(10),
      rolesByLevel: z
        .array(z.array(z.enum(ROLES)).max(4))
        .max(10)
        .default([]),
      autoPayout: z.boolean().default(false),
    }),
    failedPayout: z.enum(["release", "keep"]).default("release"),
  })
  .strict();
export type WithdrawalMethodInput = z.input<typeof withdrawalMethodInput>;

/** The approval settings' problems for every currency of the method (pure). */
export function approvalIssues(
  approval: ApprovalSettings,
  payoutMode: "manual" | "integration",
  currencies: readonly Pick<WithdrawalCurrency, "code" | "decimals">[],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  approval.bands.forEach((b, i) => {
    for (const c of currencies)
      if (!tryParseAmount(b.from, c.decimals).ok)
        issues.push({ path: `approval.bands.${i}.from`, message: `${b.from} is not an amount of ${c.code}` });
  });
  if (issues.length > 0) return issues;
  const problems = new Set(
    currencies.flatMap((c) => policyProblems(policyFor(approval, c.decimals), payoutMode)),
  );
  return [...problems].map((message) => ({ path: "approval", message }));
}

async function checkedRow(
  trx: Db,
  actor: AdminActor,
  input: WithdrawalMethodInput,
  id: string,
): Promise<Omit<WithdrawalMethodsTable, "sort_order" | "created_at" | "updated_at" | "deleted_at">> {
  const data = parseInput(withdrawalMethodInput, input);
  const cur = parseCurrencies(data.currencies);
  await lockTenantExponents(trx, actor.tenantId);
  const inUse = await exponentsInUse(
    trx,
    actor.tenantId,
    cur.currencies.map((c) => c.code),
    { exceptMethodId: id },
  );
  const vis = checkVisibility(data.visibility, data.clientGroups);
  const issues: FieldIssue[] = [
    ...cur.issues,
    ...exponentIssues(data.currencies, cur.currencies, inUse),
    ...vis.issues,
  ];
  const keys = data.fields.map((f) => f.key);
  keys.forEach((k, i) => {
    if (keys.indexOf(k) !== i) issues.push({ path: `fields.${i}.key`, message: `${k} is listed twice` });
    // API-4 sends the fields beside its own keys (docs/psp-open-api.md#api-4).
    if (isPayoutRequestKey(k))
      issues.push({ path: `fields.${i}.key`, message: `${k} is a key of the payout request itself` });
  });
  if (data.payoutMode === "integration") {
    const integration = data.integrationId
      ? await createIntegrationRepo(trx).find(actor.tenantId, data.integrationId)
      : undefined;
    if (!integration) issues.push({ path: "integrationId", message: "Integration not found" });
  } else if (data.integrationId !== null) {
    issues.push({ path: "integrationId", message: "a manual payout names no integration" });
  }
  if (cur.issues.length === 0) issues.push(...approvalIssues(data.approval, data.payoutMode, cur.currencies));
  if (issues.length > 0) throw new ValidationError("The withdrawal method settings are invalid", issues);
  return {
    id,
    tenant_id: actor.tenantId,
    name: data.name,
    enabled: fromBool(data.enabled),
    currencies: encodeCurrencies(cur.currencies.map(({ conversion: _c, ...c }) => c)),
    fields: encodeJson(data.fields),
    visibility: data.visibility,
    client_groups: encodeJson(vis.clientGroups),
    payout_mode: data.payoutMode,
    integration_id: data.payoutMode === "integration" ? data.integrationId : null,
    approval_policy: encodeApproval(data.approval),
    failed_payout: data.failedPayout,
  };
}

type Ctx = Pick<AppContext, "db" | "clock">;

export async function createWithdrawalMethod(
  ctx: Ctx,
  actor: AdminActor,
  input: WithdrawalMethodInput,
): Promise<WithdrawalMethod> {
  return writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    const fields = await checkedRow(trx, actor, input, newId());
    const last = await trx
      .selectFrom("withdrawal_methods")
      .select((eb) => eb.fn.max("sort_order").as("max"))
      .where("tenant_id", "=", actor.tenantId)
      .executeTakeFirst();
    const row: WithdrawalMethodsTable = {
      ...fields,
      sort_order: Number(last?.max ?? -1) + 1,
      deleted_at: null,
      created_at: now,
      updated_at: now,
    };
    await trx.insertInto("withdrawal_methods").values(row).execute();
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "withdrawal_method.create",
        targetType: "withdrawal_method",
        targetId: row.id,
        after: {
          ...fields,
          currencies: JSON.parse(fields.currencies),
          approval: JSON.parse(fields.approval_policy),
        },
        ip: actor.ip,
      },
      now,
    );
    return toWithdrawalMethod(row);
  });
}

/** Replaces a method's settings (a request keeps the figures and levels it was made with). */
export async function updateWithdrawalMethod(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: WithdrawalMethodInput,
): Promise<WithdrawalMethod> {
  return writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now();
    const current = await trx
      .selectFrom("withdrawal_methods")
      .selectAll()
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    if (!current) throw new NotFoundError("Withdrawal method");
    const fields = await checkedRow(trx, actor, input, id);
    const row: WithdrawalMethodsTable = { ...current, ...fields, updated_at: now };
    await trx
      .updateTable("withdrawal_methods")
      .set({ ...fields, updated_at: now })
      .where("tenant_id", "=", actor.tenantId)
      .where("id", "=", id)
      .execute();
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "withdrawal_method.update",
        targetType: "withdrawal_method",
        targetId: id,
        before: { name: current.name, approval: JSON.parse(current.approval_policy) },
        after: { name: fields.name, approval: JSON.parse(fields.approval_policy) },
        ip: actor.ip,
      },
      now,
    );
    return toWithdrawalMethod(row);
  });
}

/** The tenant's live withdrawal methods, in display order. */
export async function listWithdrawalMethods(
  ctx: Pick<AppContext, "db">,
  tenantId: string,
): Promise<WithdrawalMethod[]> {
  const rows = await ctx.db
    .selectFrom("withdrawal_methods")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("sort_order")
    .execute();
  return rows.map(toWithdrawalMethod);
}

/**
 * Sets the display order: `ids` must be exactly the tenant's (not deleted) withdrawal methods,
 * each once, in the new order. Audited when it changes anything. Answers the methods in order.
 */
export async function reorderWithdrawalMethods(
  ctx: Ctx,
  actor: AdminActor,
  input: { ids: string[] },
): Promise<WithdrawalMethod[]> {
  const { ids } = parseInput(z.object({ ids: z.array(z.string().min(1).max(100)).max(1000) }), input);
  return writeTransaction(ctx.db, async (trx) => {
    const rows = await listWithdrawalMethods({ db: trx }, actor.tenantId);
    const known = new Set(rows.map((r) => r.id));
    if (new Set(ids).size !== ids.length || ids.length !== rows.length || ids.some((id) => !known.has(id)))
      throw new ValidationError("The order must list every withdrawal method exactly once", [
        { path: "ids", message: "must be a permutation of the ids of all withdrawal methods" },
      ]);
    const now = ctx.clock.now();
    const before = rows.map((r) => r.id);
    if (ids.every((id, i) => before[i] === id)) return rows;
    for (const [index, id] of ids.entries())
      await trx
        .updateTable("withdrawal_methods")
        .set({ sort_order: index, updated_at: now })
        .where("tenant_id", "=", actor.tenantId)
        .where("id", "=", id)
        .execute();
    await recordAudit(
      trx,
      {
        tenantId: actor.tenantId,
        actor: actor.audit,
        action: "withdrawal_method.reorder",
        targetType: "withdrawal_method",
        targetId: null,
        before: { order: before },
        after: { order: ids },
        ip: actor.ip,
      },
      now,
    );
    return listWithdrawalMethods({ db: trx }, actor.tenantId);
  });
}
