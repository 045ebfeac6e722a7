import { formatAmountNumber, sign } from "@psphub/protocol";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { AppContext } from "../app-context.js";
import { newId, newOrderNo } from "../common/ids.js";
import type { DepositsTable } from "../infra/db/schema.js";
import { CALLBACK_PATH } from "../modules/callbacks/callback-routes.js";
import { findLedgerMismatches } from "../modules/clients/ledger.js";
import { NO_QUOTE } from "../modules/fx-quotes/locked-quote.js";
import type { PaymentFixture } from "./payment-fixtures.js";

/**
 * Test helpers for API-2: deposits inserted directly (deposit creation is another module's),
 * callback bodies signed the way a tenant backend signs them, and the money invariants.
 */

export type TestDeposit = {
  id: string;
  orderNo: string;
  tenantId: string;
  clientId: string;
  currency: string;
  decimals: number;
  amountMinor: bigint;
  feeMinor: bigint;
  creditMinor: bigint;
};

/** The row of a pending USD 100.00 order (fee 2.80, credit 97.20) of the fixture's method, unless overridden. */
export function depositRowFor(
  fx: PaymentFixture,
  now: number,
  overrides: Partial<DepositsTable> = {},
): DepositsTable {
  const amount = overrides.amount_minor ?? 10_000;
  const fee = overrides.fee_minor ?? 280;
  return {
    id: newId(),
    tenant_id: fx.tenantId,
    order_no: newOrderNo(),
    client_id: fx.clientId,
    method_id: fx.methodId,
    integration_id: fx.integrationId,
    currency: "USD",
    decimals: 2,
    amount_minor: amount,
    fee_minor: fee,
    credit_minor: amount - fee,
    // The fixture method's USD fee rule (2.5 % + 0.30, at most 20.00).
    fee_rule_bps: 250,
    fee_rule_fixed_minor: 30,
    fee_rule_max_minor: 2_000,
    paid_amount_minor: null,
    status: "pending",
    fields: "{}",
    device: null,
    language: null,
    idempotency_key: null,
    request_hash: null,
    payment_url: "https://psp.example.com/pay/x",
    failure_reason: null,
    failure_message: null,
    transaction_id: null,
    psp_time: null,
    created_by: null,
    expires_at: now + 30 * 60_000,
    created_at: now,
    updated_at: now,
    finalized_at: null,
    status_query_due_at: null,
    status_query_step: 0,
    ...NO_QUOTE,
    ...overrides,
  };
}

/** A pending USD 100.00 order (fee 2.80, credit 97.20) of the fixture's method, unless overridden. */
export async function insertDeposit(
  ctx: Pick<AppContext, "db" | "clock">,
  fx: PaymentFixture,
  overrides: Partial<DepositsTable> = {},
): Promise<TestDeposit> {
  const row = depositRowFor(fx, ctx.clock.now(), overrides);
  await ctx.db.insertInto("deposits").values(row).execute();
  return {
    id: row.id,
    orderNo: row.order_no,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    currency: row.currency,
    decimals: row.decimals,
    amountMinor: BigInt(row.amount_minor),
    feeMinor: BigInt(row.fee_minor),
    creditMinor: BigInt(row.credit_minor),
  };
}

/** An order made through a route or use-case, as the callback helpers know it. */
export async function testDepositOf(ctx: Pick<AppContext, "db">, id: string): Promise<TestDeposit> {
  const row = await depositRow(ctx, id);
  return {
    id: row.id,
    orderNo: row.order_no,
    tenantId: row.tenant_id,
    clientId: row.client_id,
    currency: row.currency,
    decimals: row.decimals,
    amountMinor: BigInt(row.amount_minor),
    feeMinor: BigInt(row.fee_minor),
    creditMinor: BigInt(row.credit_minor),
  };
}

/** A value in a callback body. `{ literal }` is a JSON number written exactly as given (`100.0`). */
export type CallbackValue = string | number | boolean | null | { literal: string };
export type CallbackFields = Record<string, CallbackValue>;

/** The fields of a well-formed callback for a deposit: status 1, the ordered amount. */
export function callbackFields(
  fx: Pick<PaymentFixture, "merchantId">,
  dep: Pick<TestDeposit, "orderNo" | "amountMinor" | "decimals" | "currency">,
  overrides: CallbackFields = {},
): CallbackFields {
  return {
    merchant_id: fx.merchantId,
    order_no: dep.orderNo,
    transaction_id: `tx-${dep.orderNo}`,
    amount: { literal: formatAmountNumber(dep.amountMinor, dep.decimals) },
    currency: dep.currency,
    time: 1_767_225_600_000,
    status: 1,
    ...overrides,
  };
}

const isLiteral = (v: CallbackValue): v is { literal: string } => typeof v === "object" && v !== null;

export type SignAs =
  /** Over the numbers' literal text in the body (docs/psp-open-api.md#signature-numbers). */
  | "literal"
  /** Over JavaScript's String(number) of the parsed values (also accepted). */
  | "parsed";

/**
 * A JSON callback body as a tenant backend would send it: the fields in the given order, numbers
 * written as their literals, `sign` appended (unless `signature` replaces or, with null, omits it).
 */
export function callbackJson(
  fields: CallbackFields,
  token: string,
  opts: { signAs?: SignAs; signature?: string | null } = {},
): string {
  const params: Record<string, string | number | boolean | null> = {};
  const literals: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (isLiteral(v)) {
      params[k] = Number(v.literal);
      literals[k] = v.literal;
    } else params[k] = v;
  }
  const signature =
    opts.signature !== undefined
      ? opts.signature
      : sign(params, token, opts.signAs === "parsed" ? undefined : { literals });
  const entries = Object.entries(fields).map(
    ([k, v]) => `${JSON.stringify(k)}:${isLiteral(v) ? v.literal : JSON.stringify(v)}`,
  );
  if (signature !== null) entries.push(`"sign":${JSON.stringify(signature)}`);
  return `{${entries.join(",")}}`;
}

/** The same callback form-encoded (ours): every value is text, signed as written. */
export function callbackForm(fields: CallbackFields, token: string): string {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v !== null) params[k] = isLiteral(v) ? v.literal : String(v);
  }
  const form = new URLSearchParams(params);
  form.set("sign", sign(params, token));
  return form.toString();
}

export type SendOptions = {
  /** The crm-pay-token header; null sends none. */
  token: string | null;
  contentType?: string | null;
};

function headersOf(opts: SendOptions, body: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (opts.token !== null) h["crm-pay-token"] = opts.token;
  const ct =
    opts.contentType === undefined ? (body.startsWith("{") ? "application/json" : null) : opts.contentType;
  if (ct !== null) h["content-type"] = ct;
  return h;
}

/** Sends a raw callback body through app.inject. */
export function sendCallback(
  app: FastifyInstance,
  body: string,
  opts: SendOptions,
): Promise<LightMyRequestResponse> {
  return app.inject({ method: "POST", url: CALLBACK_PATH, payload: body, headers: headersOf(opts, body) });
}

/** Sends a raw callback body over real HTTP to a listening server (`base` like http://127.0.0.1:1234). */
export async function sendCallbackHttp(
  base: string,
  body: string,
  opts: SendOptions,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${CALLBACK_PATH}`, {
    method: "POST",
    body,
    headers: headersOf(opts, body),
  });
  return { status: res.status, body: await res.text() };
}

/** A signed JSON success callback for `dep`, sent with the fixture's token. */
export function sendSignedCallback(
  app: FastifyInstance,
  fx: PaymentFixture,
  dep: TestDeposit,
  overrides: CallbackFields = {},
): Promise<LightMyRequestResponse> {
  return sendCallback(app, callbackJson(callbackFields(fx, dep, overrides), fx.token), { token: fx.token });
}

/**
 * The API-2 error body of a refused callback: the spec's three keys, and our `detail` (any text
 * here; callback-detail tests check each check's words).
 */
export const callbackError = (type: string, code = 400) => ({
  error: true,
  code,
  type,
  detail: expect.any(String),
});

/** Everything money-related, to prove that a refused callback changed nothing. */
export async function moneySnapshot(ctx: Pick<AppContext, "db">) {
  const [deposits, wallets, ledger] = await Promise.all([
    ctx.db.selectFrom("deposits").selectAll().orderBy("id").execute(),
    ctx.db.selectFrom("wallets").selectAll().orderBy("id").execute(),
    ctx.db.selectFrom("ledger_entries").selectAll().orderBy("id").execute(),
  ]);
  return { deposits, wallets, ledger };
}

export async function depositRow(ctx: Pick<AppContext, "db">, id: string) {
  return ctx.db.selectFrom("deposits").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

export async function ledgerEntriesOf(ctx: Pick<AppContext, "db">, depositId: string) {
  return ctx.db.selectFrom("ledger_entries").selectAll().where("deposit_id", "=", depositId).execute();
}

export async function walletBalance(ctx: Pick<AppContext, "db">, clientId: string, currency = "USD") {
  const w = await ctx.db
    .selectFrom("wallets")
    .select("balance_minor")
    .where("client_id", "=", clientId)
    .where("currency", "=", currency)
    .executeTakeFirst();
  return BigInt(w?.balance_minor ?? 0);
}

/**
 * The ledger invariants, for afterEach: every wallet's balance equals the sum of its entries;
 * at most one deposit entry per deposit, only for succeeded deposits, of exactly their credit.
 */
export async function expectLedgerInvariant(ctx: Pick<AppContext, "db">): Promise<void> {
  expect(await findLedgerMismatches(ctx.db)).toEqual([]);
  const entries = await ctx.db
    .selectFrom("ledger_entries as e")
    .innerJoin("deposits as d", "d.id", "e.deposit_id")
    .select(["e.deposit_id", "e.amount_minor", "d.status", "d.credit_minor"])
    .where("e.kind", "=", "deposit")
    .execute();
  const seen = new Set<string>();
  for (const e of entries) {
    expect(seen.has(e.deposit_id!), `two credits for deposit ${e.deposit_id}`).toBe(false);
    seen.add(e.deposit_id!);
    expect(e.status, `a credit for a ${e.status} deposit`).toBe("succeeded");
    expect(e.amount_minor).toBe(e.credit_minor);
  }
  const orphans = await ctx.db
    .selectFrom("ledger_entries")
    .select("id")
    .where("kind", "=", "deposit")
    .where("deposit_id", "not in", ctx.db.selectFrom("deposits").select("id"))
    .execute();
  expect(orphans).toEqual([]);
}
