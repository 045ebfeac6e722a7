import { formatAmount } from "@psphub/protocol";
import type { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import type { StaffActor } from "../../http/access.js";
import { decodeJson, toBigInt } from "../../infra/db/database.js";
import type { Role } from "../../infra/db/schema.js";
import { can } from "../auth/permissions.js";
import { currencyView } from "../deposit-methods/method-currencies.js";
import { isVisibleTo } from "../deposit-methods/method-model.js";
import { personOf } from "../users/api-keys.js";
import { mayDecide } from "./approval-policy.js";
import { mayMarkPaid } from "./decide-withdrawal.js";
import { policyFor, toWithdrawalMethod, type WithdrawalMethod } from "./withdrawal-model.js";
import { createWithdrawalRepo, type WithdrawalRow } from "./withdrawal-repo.js";
import { type RiskFlag, riskFlags } from "./withdrawal-risk.js";
import type {
  adminListQuery,
  clientWithdrawalOut,
  withdrawalDetailOut,
  withdrawalMethodOut,
  withdrawalSummaryOut,
} from "./withdrawal-schemas.js";
import { withdrawalSourcesOf } from "./withdrawal-state.js";

/**
 * What the back office and the portal read of withdrawals (docs/withdrawals.md#http-routes):
 * the approval queue with its filters and risk flags, one withdrawal with its decisions,
 * timeline, the client's recent activity and what the viewing person may do with it, and the
 * client's own list. Every query is scoped by tenant (and by client in the portal).
 */

type Ctx = Pick<AppContext, "db">;
type MethodView = z.output<typeof withdrawalMethodOut>;
type Summary = z.output<typeof withdrawalSummaryOut>;
type Detail = z.output<typeof withdrawalDetailOut>;
type ClientView = z.output<typeof clientWithdrawalOut>;

const money = (minor: number | bigint, decimals: number) => formatAmount(BigInt(minor), decimals);

export function withdrawalMethodView(m: WithdrawalMethod): MethodView {
  return {
    id: m.id,
    name: m.name,
    enabled: m.enabled,
    sortOrder: m.sortOrder,
    currencies: m.currencies.map((c) => {
      const { conversion: _c, ...view } = currencyView({ ...c, conversion: null });
      return view;
    }),
    fields: m.fields,
    visibility: m.visibility,
    clientGroups: m.clientGroups,
    payoutMode: m.payoutMode,
    integrationId: m.integrationId,
    approval: {
      bands: m.approval.bands,
      rolesByLevel: m.approval.rolesByLevel.map((roles) => [...roles]),
      autoPayout: m.approval.autoPayout,
    },
    failedPayout: m.failedPayout,
  };
}

export async function getWithdrawalMethod(ctx: Ctx, tenantId: string, id: string): Promise<MethodView> {
  const m = await createWithdrawalRepo(ctx.db).method(tenantId, id);
  if (!m || m.deleted) throw new NotFoundError("Withdrawal method");
  return withdrawalMethodView(m);
}

/** The methods a client sees in the portal: enabled, visible to its group, in display order. */
export async function portalWithdrawalMethods(ctx: Ctx, tenantId: string, clientId: string) {
  const client = await ctx.db
    .selectFrom("clients")
    .select("client_group")
    .where("tenant_id", "=", tenantId)
    .where("id", "=", clientId)
    .executeTakeFirst();
  const rows = await ctx.db
    .selectFrom("withdrawal_methods")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .where("enabled", "=", 1)
    .orderBy("sort_order")
    .execute();
  const methods = rows.map(toWithdrawalMethod).filter((m) => isVisibleTo(m, client?.client_group ?? null));
  return methods.map((m) => {
    const { id, name, currencies, fields } = withdrawalMethodView(m);
    return { id, name, currencies, fields };
  });
}

/** The destination a withdrawal pays to: the value of its method's first field (an IBAN, an address). */
function destinationOf(w: Pick<WithdrawalRow, "fields">, m: WithdrawalMethod | undefined): string | null {
  const key = m?.fields[0]?.key;
  if (!key) return null;
  return decodeJson<Record<string, string>>(w.fields, {})[key] ?? null;
}

/** Risk flags of withdrawals, from their clients' deposits and paid withdrawals (one query each). */
async function flagsOf(
  ctx: Ctx,
  tenantId: string,
  rows: readonly WithdrawalRow[],
  methods: Map<string, WithdrawalMethod>,
): Promise<Map<string, RiskFlag[]>> {
  const out = new Map<string, RiskFlag[]>();
  if (rows.length === 0) return out;
  const wallets = [...new Set(rows.map((r) => r.wallet_id))];
  const clients = [...new Set(rows.map((r) => r.client_id))];
  const deposits = await ctx.db
    .selectFrom("ledger_entries")
    .select(["wallet_id", "amount_minor", "created_at"])
    .where("tenant_id", "=", tenantId)
    .where("wallet_id", "in", wallets)
    .where("kind", "=", "deposit")
    .execute();
  const paid = await ctx.db
    .selectFrom("withdrawals")
    .select(["id", "client_id", "method_id", "fields"])
    .where("tenant_id", "=", tenantId)
    .where("client_id", "in", clients)
    .where("status", "=", "paid")
    .execute();
  for (const [id, m] of await methodsById(
    ctx,
    tenantId,
    paid.map((p) => p.method_id),
  ))
    if (!methods.has(id)) methods.set(id, m);
  for (const w of rows) {
    out.set(
      w.id,
      riskFlags({
        amountMinor: toBigInt(w.amount_minor),
        requestedAt: w.created_at,
        destination: destinationOf(w, methods.get(w.method_id)),
        deposits: deposits
          .filter((d) => d.wallet_id === w.wallet_id && d.created_at <= w.created_at)
          .map((d) => ({ at: d.created_at, creditMinor: toBigInt(d.amount_minor) })),
        paidDestinations: paid
          .filter((p) => p.client_id === w.client_id && p.id !== w.id)
          .map((p) => destinationOf(p, methods.get(p.method_id))),
      }),
    );
  }
  return out;
}

type ListedRow = WithdrawalRow & {
  client_email: string | null;
  client_name: string | null;
};

function summaryOf(w: ListedRow, m: WithdrawalMethod | undefined, flags: RiskFlag[]): Summary {
  const open = w.status === "requested" || w.status === "approving";
  return {
    id: w.id,
    payoutNo: w.payout_no,
    clientId: w.client_id,
    clientEmail: w.client_email,
    clientName: w.client_name,
    methodId: w.method_id,
    methodName: m?.name ?? null,
    payoutMode: m?.payoutMode ?? null,
    currency: w.currency,
    amount: money(w.amount_minor, w.decimals),
    fee: money(w.fee_minor, w.decimals),
    payoutAmount: money(w.payout_minor, w.decimals),
    status: w.status,
    levelsRequired: w.levels_required,
    levelsDone: w.levels_done,
    nextLevel: open ? w.levels_done + 1 : null,
    needsAssistance: w.needs_assistance,
    riskFlags: flags,
    createdAt: w.created_at,
    updatedAt: w.updated_at,
  };
}

function listed(ctx: Ctx, tenantId: string) {
  return ctx.db
    .selectFrom("withdrawals as w")
    .leftJoin("clients as c", (j) =>
      j.onRef("c.id", "=", "w.client_id").onRef("c.tenant_id", "=", "w.tenant_id"),
    )
    .selectAll("w")
    .select(["c.email as client_email", "c.name as client_name"])
    .where("w.tenant_id", "=", tenantId);
}

/** The methods with these ids (deleted ones too: a withdrawal keeps pointing at its method), one query. */
async function methodsById(ctx: Ctx, tenantId: string, ids: readonly string[]) {
  const wanted = [...new Set(ids)];
  const rows =
    wanted.length === 0
      ? []
      : await ctx.db
          .selectFrom("withdrawal_methods")
          .selectAll()
          .where("tenant_id", "=", tenantId)
          .where("id", "in", wanted)
          .execute();
  return new Map(rows.map((r) => [r.id, toWithdrawalMethod(r)]));
}

const methodsOf = (ctx: Ctx, tenantId: string, rows: readonly { method_id: string }[]) =>
  methodsById(
    ctx,
    tenantId,
    rows.map((r) => r.method_id),
  );

/** The approval queue: newest first, filtered; `cursor` is where the next page starts. */
export async function listWithdrawals(
  ctx: Ctx,
  tenantId: string,
  q: z.output<typeof adminListQuery>,
): Promise<{ items: Summary[]; nextCursor: string | null }> {
  let query = listed(ctx, tenantId);
  if (q.status) query = query.where("w.status", "in", q.status.split(",") as WithdrawalRow["status"][]);
  if (q.level !== undefined)
    query = query
      .where("w.status", "in", ["requested", "approving"])
      .where("w.levels_done", "=", q.level - 1);
  if (q.methodId) query = query.where("w.method_id", "=", q.methodId);
  if (q.clientId) query = query.where("w.client_id", "=", q.clientId);
  if (q.currency) query = query.where("w.currency", "=", q.currency);
  if (q.needsAssistance === "true") query = query.where("w.needs_assistance", "is not", null);
  if (q.needsAssistance === "false") query = query.where("w.needs_assistance", "is", null);
  const offset = q.cursor ? Number(q.cursor) : 0;
  const rows = await query
    .orderBy("w.created_at", "desc")
    .orderBy("w.id", "desc")
    .limit(q.limit + 1)
    .offset(offset)
    .execute();
  const page = rows.slice(0, q.limit);
  const methods = await methodsOf(ctx, tenantId, page);
  const flags = await flagsOf(ctx, tenantId, page, methods);
  return {
    items: page.map((w) => summaryOf(w, methods.get(w.method_id), flags.get(w.id) ?? [])),
    nextCursor: rows.length > q.limit ? String(offset + q.limit) : null,
  };
}

type Action = { allowed: boolean; why: string | null };
const yes: Action = { allowed: true, why: null };
const no = (why: string): Action => ({ allowed: false, why });

/** What this person may do with this withdrawal now, and why not (pure). */
export function actionsFor(
  w: WithdrawalRow,
  m: WithdrawalMethod | undefined,
  who: { person: string; role: Role },
  deciders: readonly string[],
): Detail["actions"] {
  const open = w.status === "requested" || w.status === "approving";
  let decide: Action;
  if (!can(who.role, "withdrawals:decide")) decide = no("role_not_allowed");
  else if (!m) decide = no("not_open");
  else {
    const v = mayDecide(
      { open, nextLevel: w.levels_done + 1, requestedByStaffId: w.requested_by_staff_id, deciders },
      policyFor(m.approval, w.decimals),
      { staffId: who.person, role: who.role },
    );
    decide = v.ok ? yes : no(v.why);
  }
  const payer = can(who.role, "withdrawals:pay");
  const gate = (ok: boolean, why: string): Action => (!payer ? no("role_not_allowed") : ok ? yes : no(why));
  const integration = m?.payoutMode === "integration";
  const started = w.integration_id !== null;
  return {
    approve: decide,
    reject: decide,
    markPaid: gate(
      mayMarkPaid(w),
      w.status === "paid" ? "withdrawal_already_paid" : "withdrawal_not_payable",
    ),
    startPayout: gate(w.status === "approved" && integration && !started, "payout_not_startable"),
    checkPayout: gate((w.status === "approved" || w.status === "paying") && started, "payout_not_started"),
    markFailed: gate(
      (w.status === "approved" || w.status === "paying") && started && w.needs_assistance !== null,
      "payout_not_in_assistance",
    ),
  };
}

/** One withdrawal as the back office shows it, with what `viewer` may do. */
export async function getWithdrawal(ctx: Ctx, viewer: StaffActor, id: string): Promise<Detail> {
  const tenantId = viewer.tenantId;
  const w = await listed(ctx, tenantId).where("w.id", "=", id).executeTakeFirst();
  if (!w) throw new NotFoundError("Withdrawal");
  const repo = createWithdrawalRepo(ctx.db);
  const methods = await methodsOf(ctx, tenantId, [w]);
  const m = methods.get(w.method_id);
  const flags = await flagsOf(ctx, tenantId, [w], methods);
  const decisions = await ctx.db
    .selectFrom("withdrawal_decisions as d")
    .leftJoin("users as s", (j) =>
      j.onRef("s.id", "=", "d.staff_id").onRef("s.tenant_id", "=", "d.tenant_id"),
    )
    .select(["d.level", "d.decision", "d.staff_id", "d.comment", "d.created_at", "s.email"])
    .where("d.tenant_id", "=", tenantId)
    .where("d.withdrawal_id", "=", id)
    .orderBy("d.level")
    .execute();
  const events = await repo.events(tenantId, id);
  const wallet = await ctx.db
    .selectFrom("wallets")
    .select(["balance_minor", "held_minor"])
    .where("tenant_id", "=", tenantId)
    .where("id", "=", w.wallet_id)
    .executeTakeFirstOrThrow();
  const deposits = await ctx.db
    .selectFrom("deposits")
    .select(["order_no", "amount_minor", "decimals", "currency", "status", "created_at"])
    .where("tenant_id", "=", tenantId)
    .where("client_id", "=", w.client_id)
    .orderBy("created_at", "desc")
    .limit(10)
    .execute();
  const withdrawals = await ctx.db
    .selectFrom("withdrawals")
    .select(["id", "payout_no", "amount_minor", "decimals", "currency", "status", "created_at"])
    .where("tenant_id", "=", tenantId)
    .where("client_id", "=", w.client_id)
    .where("id", "!=", id)
    .orderBy("created_at", "desc")
    .limit(10)
    .execute();
  const person = await personOf(ctx.db, viewer);
  const balance = toBigInt(wallet.balance_minor);
  const held = toBigInt(wallet.held_minor);
  return {
    ...summaryOf(w, m, flags.get(w.id) ?? []),
    fields: decodeJson<Record<string, string>>(w.fields, {}),
    fieldLabels: Object.fromEntries((m?.fields ?? []).map((f) => [f.key, f.label])),
    clientReason: w.client_reason,
    payoutReference: w.payout_reference,
    transactionId: w.transaction_id,
    integrationId: w.integration_id,
    wallet: {
      balance: money(balance, w.decimals),
      held: money(held, w.decimals),
      available: money(balance - held, w.decimals),
    },
    decisions: decisions.map((d) => ({
      level: d.level,
      decision: d.decision,
      staffId: d.staff_id,
      staffEmail: d.email ?? null,
      comment: d.comment,
      createdAt: d.created_at,
    })),
    events: events.map((e) => ({
      id: e.id,
      kind: e.kind,
      data: decodeJson<Record<string, unknown>>(e.data, {}),
      createdAt: e.created_at,
    })),
    recent: {
      deposits: deposits.map((d) => ({
        orderNo: d.order_no,
        amount: money(d.amount_minor, d.decimals),
        currency: d.currency,
        status: d.status,
        createdAt: d.created_at,
      })),
      withdrawals: withdrawals.map((x) => ({
        id: x.id,
        payoutNo: x.payout_no,
        amount: money(x.amount_minor, x.decimals),
        currency: x.currency,
        status: x.status,
        createdAt: x.created_at,
      })),
    },
    actions: actionsFor(
      w,
      m,
      { person, role: viewer.role },
      decisions.map((d) => d.staff_id),
    ),
  };
}

const CANCELLABLE = new Set(withdrawalSourcesOf("cancelled"));

export function clientWithdrawalView(w: WithdrawalRow, methodName: string | null): ClientView {
  return {
    id: w.id,
    payoutNo: w.payout_no,
    methodName,
    currency: w.currency,
    amount: money(w.amount_minor, w.decimals),
    fee: money(w.fee_minor, w.decimals),
    payoutAmount: money(w.payout_minor, w.decimals),
    status: w.status,
    clientReason: w.status === "rejected" ? w.client_reason : null,
    cancellable: CANCELLABLE.has(w.status),
    createdAt: w.created_at,
    updatedAt: w.updated_at,
  };
}

function clientRows(ctx: Ctx, who: { tenantId: string; clientId: string }) {
  return ctx.db
    .selectFrom("withdrawals as w")
    .leftJoin("withdrawal_methods as m", (j) =>
      j.onRef("m.id", "=", "w.method_id").onRef("m.tenant_id", "=", "w.tenant_id"),
    )
    .selectAll("w")
    .select("m.name as method_name")
    .where("w.tenant_id", "=", who.tenantId)
    .where("w.client_id", "=", who.clientId);
}

/** The client's own withdrawals, newest first (the last 100). */
export async function listClientWithdrawals(ctx: Ctx, who: { tenantId: string; clientId: string }) {
  const rows = await clientRows(ctx, who)
    .orderBy("w.created_at", "desc")
    .orderBy("w.id", "desc")
    .limit(100)
    .execute();
  return rows.map(({ method_name, ...w }) => clientWithdrawalView(w, method_name));
}

export async function getClientWithdrawal(ctx: Ctx, who: { tenantId: string; clientId: string }, id: string) {
  const row = await clientRows(ctx, who).where("w.id", "=", id).executeTakeFirst();
  if (!row) throw new NotFoundError("Withdrawal");
  const { method_name, ...w } = row;
  return clientWithdrawalView(w, method_name);
}
