import { type Api1ParamConfig, defaultApi1ParamConfig } from "@psphub/protocol/admin";
import type { AppContext } from "../app-context.js";
import { newClientId, newId, newIntegrationToken, newMerchantId } from "../common/ids.js";
import { hashPassword } from "../infra/crypto/hashing.js";
import type { ClientsTable } from "../infra/db/schema.js";
import { encodeCurrencies, type MethodCurrency } from "../modules/deposit-methods/method-model.js";
import type { AmountPolicy, CustomParam } from "../modules/psp-integrations/integration-model.js";
import { ensureWallet } from "./ledger-postings.js";

/**
 * Direct inserts of the rows a payment test needs (integration, method, client), so payment
 * tests do not depend on the settings routes. Values follow the same models the routes write.
 */
export type PaymentFixture = {
  tenantId: string;
  integrationId: string;
  merchantId: string;
  token: string;
  methodId: string;
  clientId: string;
  clientEmail: string;
  clientPassword: string;
};

export const USD: MethodCurrency = {
  code: "USD",
  decimals: 2,
  minMinor: 1_000n,
  maxMinor: 500_000n,
  feePercentBps: 250,
  feeFixedMinor: 30n,
  feeMaxMinor: 2_000n,
};

/** EUR paid into the USD wallet at `sourceId`'s rate (2.5 % fee, 10.00..5000.00 EUR). */
export const eurCreditingUsd = (sourceId: string, markupBps = 0): MethodCurrency => ({
  code: "EUR",
  decimals: 2,
  minMinor: 1_000n,
  maxMinor: 500_000n,
  feePercentBps: 250,
  feeFixedMinor: 0n,
  feeMaxMinor: null,
  conversion: { account: "USD", accountDecimals: 2, rules: [{ group: null, sourceId, markupBps }] },
});

export async function insertIntegration(
  ctx: Pick<AppContext, "db" | "clock" | "secretBox">,
  tenantId: string,
  opts: {
    appUrl?: string;
    enabled?: boolean;
    amountPolicy?: AmountPolicy;
    api1TimeoutMs?: number;
    paramConfig?: Api1ParamConfig;
    customParams?: CustomParam[];
  } = {},
) {
  const now = ctx.clock.now();
  const id = newId();
  const merchantId = newMerchantId();
  const token = newIntegrationToken();
  await ctx.db
    .insertInto("psp_integrations")
    .values({
      id,
      tenant_id: tenantId,
      name: "Test PSP",
      enabled: opts.enabled === false ? 0 : 1,
      app_url: opts.appUrl ?? "https://psp.example.com",
      merchant_id: merchantId,
      token_enc: ctx.secretBox.seal(token),
      prev_token_enc: null,
      prev_token_expires_at: null,
      token_rotated_at: null,
      api1_timeout_ms: opts.api1TimeoutMs ?? 10_000,
      amount_policy: opts.amountPolicy ?? "exact",
      param_config: JSON.stringify(opts.paramConfig ?? defaultApi1ParamConfig()),
      custom_params: JSON.stringify(opts.customParams ?? []),
      status_query_enabled: 0,
      status_query_schedule: null,
      status_query_timeout_ms: 10_000,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return { integrationId: id, merchantId, token };
}

export async function insertMethod(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  integrationId: string,
  opts: {
    currencies?: MethodCurrency[];
    ttlSeconds?: number;
    fieldLabels?: Record<string, string>;
    enabled?: boolean;
  } = {},
) {
  const now = ctx.clock.now();
  const id = newId();
  await ctx.db
    .insertInto("deposit_methods")
    .values({
      id,
      tenant_id: tenantId,
      integration_id: integrationId,
      name: "Card",
      enabled: opts.enabled === false ? 0 : 1,
      sort_order: 0,
      currencies: encodeCurrencies(opts.currencies ?? [USD]),
      visibility: "all",
      client_groups: "[]",
      field_labels: JSON.stringify(opts.fieldLabels ?? {}),
      order_ttl_seconds: opts.ttlSeconds ?? 1800,
      deleted_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

export async function insertClient(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  opts: { email?: string; password?: string; group?: string | null } = {},
) {
  const id = newClientId();
  const email = opts.email ?? `client-${id}@example.com`;
  const password = opts.password ?? "client password 1";
  // `disabled` is left to its column default, so migration tests can seed a schema older
  // than the migration that added it (0008).
  const row: Omit<ClientsTable, "disabled"> = {
    id,
    tenant_id: tenantId,
    name: "Jane Client",
    email,
    phone: "+1 555 0100",
    nationality: "us",
    language: "en-us",
    client_group: opts.group ?? null,
    password_hash: await hashPassword(password),
    created_at: ctx.clock.now(),
  };
  await ctx.db
    .insertInto("clients")
    .values(row as ClientsTable)
    .execute();
  return { clientId: id, clientEmail: email, clientPassword: password };
}

/** One tenant-side setup: integration → method → client, ready for deposits. */
export async function insertPaymentSetup(
  ctx: Pick<AppContext, "db" | "clock" | "secretBox">,
  tenantId: string,
  opts: Parameters<typeof insertIntegration>[2] & { ttlSeconds?: number; currencies?: MethodCurrency[] } = {},
): Promise<PaymentFixture> {
  const integ = await insertIntegration(ctx, tenantId, opts);
  const methodId = await insertMethod(ctx, tenantId, integ.integrationId, opts);
  const client = await insertClient(ctx, tenantId);
  return { tenantId, ...integ, methodId, ...client };
}

/**
 * A deposit credit of 0 written straight into the ledger, as if another path had credited the
 * order without moving it: the status check then lets a success callback through and only the
 * ledger's unique index stops a second credit. Returns the entry's id. The entry can never be
 * deleted (migration 0003): run such a test on a database of its own, since the payment
 * invariants checked after each test refuse a credit of a pending order.
 */
export async function insertEarlierCredit(
  ctx: Pick<AppContext, "db">,
  f: { tenantId: string; clientId: string },
  depositId: string,
): Promise<string> {
  const walletId = await ensureWallet(ctx.db, {
    tenantId: f.tenantId,
    clientId: f.clientId,
    currency: "USD",
    now: 1,
  });
  const id = newId();
  await ctx.db
    .insertInto("ledger_entries")
    .values({
      id,
      tenant_id: f.tenantId,
      wallet_id: walletId,
      amount_minor: 0,
      kind: "deposit",
      deposit_id: depositId,
      memo: "earlier credit",
      created_at: 1,
    })
    .execute();
  return id;
}
