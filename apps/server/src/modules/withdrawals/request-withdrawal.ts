import { tryParseAmount } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { newId, newOrderNo } from "../../common/ids.js";
import { isUniqueViolation, toBigInt, toDbMinor, writeTransaction } from "../../infra/db/database.js";
import { placeHold } from "../clients/ledger-holds.js";
import { isVisibleTo } from "../deposit-methods/method-model.js";
import { insertWebhookEvents } from "../webhooks/outbox-repo.js";
import { levelsFor } from "./approval-policy.js";
import { policyFor, withdrawalFigures } from "./withdrawal-model.js";
import { createWithdrawalRepo, type WithdrawalRow } from "./withdrawal-repo.js";
import { withdrawalWebhook } from "./withdrawal-webhook.js";

/**
 * A client asks to withdraw (docs/withdrawals.md#the-request-and-the-hold): the amount must be
 * one the method allows, and at most the wallet's available balance (balance − held). The
 * request and its hold are written in one transaction; the hold's conditional update on the
 * wallet decides between concurrent requests, in any number of processes, on either database.
 * A repeated idempotency key answers the first request again.
 */

export type WithdrawalInput = {
  methodId: string;
  currency: string;
  /** Decimal text in the currency's decimals. */
  amount: string;
  fields: Record<string, string>;
  idempotencyKey?: string;
};

export type Requester = { tenantId: string; clientId: string; staffId?: string | null };

type Ctx = Pick<AppContext, "db" | "clock">;

export async function requestWithdrawal(
  ctx: Ctx,
  who: Requester,
  input: WithdrawalInput,
): Promise<WithdrawalRow & { created: boolean }> {
  const repo = createWithdrawalRepo(ctx.db);
  if (input.idempotencyKey) {
    const earlier = await repo.byIdempotencyKey(who.tenantId, who.clientId, input.idempotencyKey);
    if (earlier) return sameRequest(earlier, input);
  }
  const method = await repo.method(who.tenantId, input.methodId);
  const client = await ctx.db
    .selectFrom("clients")
    .select(["client_group", "disabled"])
    .where("tenant_id", "=", who.tenantId)
    .where("id", "=", who.clientId)
    .executeTakeFirst();
  if (!client) throw new NotFoundError("Client");
  if (!method || method.deleted || !method.enabled || !isVisibleTo(method, client.client_group))
    throw new NotFoundError("Withdrawal method");
  // A disabled client keeps its money but moves none (staff may not ask on its behalf either).
  if (client.disabled) throw new ConflictError("This client is disabled", "client_disabled");
  const currency = method.currencies.find((c) => c.code === input.currency);
  if (!currency)
    throw new ValidationError("This method does not pay out in that currency", [
      { path: "currency", message: `One of ${method.currencies.map((c) => c.code).join(", ")}` },
    ]);
  const parsed = tryParseAmount(input.amount, currency.decimals);
  if (!parsed.ok || parsed.minor <= 0n)
    throw new ValidationError("The amount is not valid", [
      { path: "amount", message: parsed.ok ? "Must be more than 0" : parsed.message },
    ]);
  const amountMinor = parsed.minor;
  if (amountMinor < currency.minMinor || amountMinor > currency.maxMinor)
    throw new ValidationError("The amount is outside the method's limits", [
      { path: "amount", message: "Outside the method's minimum and maximum" },
    ]);
  const issues = [
    ...method.fields
      .filter((f) => f.required && !(input.fields[f.key] ?? "").trim())
      .map((f) => ({ path: `fields.${f.key}`, message: `${f.label} is required` })),
    ...Object.keys(input.fields)
      .filter((k) => !method.fields.some((f) => f.key === k))
      .map((k) => ({ path: `fields.${k}`, message: "Not a field of this method" })),
  ];
  if (issues.length > 0) throw new ValidationError("Some fields are missing or unknown", issues);

  const wallet = await ctx.db
    .selectFrom("wallets")
    .select(["id"])
    .where("tenant_id", "=", who.tenantId)
    .where("client_id", "=", who.clientId)
    .where("currency", "=", currency.code)
    .executeTakeFirst();
  if (!wallet) throw insufficient();

  const now = ctx.clock.now();
  const { feeMinor, payoutMinor } = withdrawalFigures(currency, amountMinor);
  const row: WithdrawalRow = {
    id: newId(),
    tenant_id: who.tenantId,
    payout_no: newOrderNo(),
    client_id: who.clientId,
    wallet_id: wallet.id,
    method_id: method.id,
    currency: currency.code,
    decimals: currency.decimals,
    amount_minor: toDbMinor(amountMinor),
    fee_minor: toDbMinor(feeMinor),
    payout_minor: toDbMinor(payoutMinor),
    fields: JSON.stringify(input.fields),
    status: "requested",
    levels_required: levelsFor(policyFor(method.approval, currency.decimals), amountMinor),
    levels_done: 0,
    requested_by_staff_id: who.staffId ?? null,
    idempotency_key: input.idempotencyKey ?? null,
    client_reason: null,
    payout_reference: null,
    created_at: now,
    updated_at: now,
    integration_id: null,
    transaction_id: null,
    payout_due: null,
    payout_step: 0,
    needs_assistance: null,
  };
  try {
    await writeTransaction(ctx.db, async (trx) => {
      const r = createWithdrawalRepo(trx);
      await r.insert(row);
      const held = await placeHold(trx, {
        tenantId: who.tenantId,
        walletId: wallet.id,
        withdrawalId: row.id,
        amountMinor,
        now,
      });
      if (!held) throw insufficient();
      await r.addEvent(
        who.tenantId,
        row.id,
        "requested",
        { amount: String(amountMinor), fee: String(feeMinor), by: who.staffId ?? "client" },
        now,
      );
      await r.addEvent(who.tenantId, row.id, "hold_placed", { amount: String(amountMinor) }, now);
      await insertWebhookEvents(trx, [withdrawalWebhook("withdrawal.requested", row, now)]);
    });
  } catch (err) {
    // The same key, sent twice at once: the first request stands.
    if (input.idempotencyKey && isUniqueViolation(err)) {
      const earlier = await repo.byIdempotencyKey(who.tenantId, who.clientId, input.idempotencyKey);
      if (earlier) return sameRequest(earlier, input);
    }
    throw err;
  }
  return { ...row, created: true };
}

const insufficient = () =>
  new ConflictError("The amount is more than the available balance", "insufficient_available_balance");

/** An earlier request under the same key: the same request again, or a refusal. */
function sameRequest(earlier: WithdrawalRow, input: WithdrawalInput): WithdrawalRow & { created: false } {
  const parsed = tryParseAmount(input.amount, earlier.decimals);
  const same =
    earlier.method_id === input.methodId &&
    earlier.currency === input.currency &&
    parsed.ok &&
    parsed.minor === toBigInt(earlier.amount_minor);
  if (!same)
    throw new ConflictError("This idempotency key was used for another withdrawal", "idempotency_key_reused");
  return { ...earlier, created: false };
}
