import { sql } from "kysely";
import { type Db, toBigInt, toDbMinor } from "../../infra/db/database.js";
import { HOLD_KINDS, type LedgerEntriesTable, type WalletsTable } from "../../infra/db/schema.js";
import { insertRows, tableColumns } from "../../infra/db/sql-text.js";
import type { BatchWrite } from "../../infra/db/write-batch.js";

export type LedgerPosting = {
  tenantId: string;
  clientId: string;
  currency: string;
  amountMinor: bigint;
  kind: LedgerEntriesTable["kind"];
  /** For kind `deposit`: the deposit credited. A unique index allows one deposit entry per deposit. */
  depositId: string | null;
  memo?: string | null;
  now: number;
};

/** A posting whose wallet is known (read, or planned as new) and whose entry id is taken. */
export type PlannedPosting = LedgerPosting & { walletId: string; entryId: string };

/**
 * The writes that post planned entries: one upsert of their wallets (each created with its
 * planned id, or its balance moved by the postings' sum) returning exactly the planned ids,
 * then the entries in one insert. A wallet planned as new that another transaction created
 * meanwhile has another id: on PostgreSQL the entries' foreign key then fails the statement
 * ({@link isWalletCreationRace}), and the caller reads again and finds it.
 *
 * Wallets are written in (client, currency) order, the key their upsert conflicts on, not in id
 * order: a new wallet's planned id differs from one transaction to another, so two transactions
 * creating the same two wallets would otherwise lock them in opposite orders and deadlock.
 */
export function ledgerWrites(db: Db, postings: readonly PlannedPosting[]): BatchWrite[] {
  if (postings.length === 0) return [];
  const sums = new Map<string, { p: PlannedPosting; amount: bigint }>();
  for (const p of postings) {
    const s = sums.get(p.walletId);
    if (s) s.amount += p.amountMinor;
    else sums.set(p.walletId, { p, amount: p.amountMinor });
  }
  const wallets = [...sums.entries()].sort(([, a], [, b]) => compareWalletKeys(a.p, b.p));
  const upsert = insertRows(
    db,
    WALLETS,
    wallets.map(([id, { p, amount }]) => ({
      id,
      tenant_id: p.tenantId,
      client_id: p.clientId,
      currency: p.currency,
      balance_minor: toDbMinor(amount),
      held_minor: 0,
      created_at: p.now,
    })),
    { tail: WALLET_UPSERT, orderBy: ["client_id", "currency"] },
  );
  const entries = insertRows(
    db,
    LEDGER_ENTRIES,
    postings.map((p) => ({
      id: p.entryId,
      tenant_id: p.tenantId,
      wallet_id: p.walletId,
      amount_minor: toDbMinor(p.amountMinor),
      kind: p.kind,
      deposit_id: p.depositId,
      withdrawal_id: null,
      memo: p.memo ?? null,
      created_at: p.now,
    })),
  );
  return [{ ...upsert, returnsIds: wallets.map(([id]) => id) }, entries];
}

/** (client, currency) order, for SQLite's VALUES list (PostgreSQL sorts the rows itself). */
function compareWalletKeys(
  a: { clientId: string; currency: string },
  b: { clientId: string; currency: string },
) {
  const c = a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0;
  return c !== 0 ? c : a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0;
}

/**
 * A transaction that planned a client's wallet as new (none when it read) while another one
 * created it: PostgreSQL's upsert moved the other wallet's balance, and the entries, which name
 * the planned id, fail their foreign key at the end of the statement. Nothing was written (the
 * transaction must roll back); the wallet is committed by then (the upsert waited for it), so
 * the same work read again finds it. SQLite has one writer, and never races here.
 */
export function isWalletCreationRace(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === "23503" && e.constraint === "ledger_entries_wallet_id_fkey";
}

const WALLETS = tableColumns<WalletsTable>("wallets", {
  id: "text",
  tenant_id: "text",
  client_id: "text",
  currency: "text",
  balance_minor: "bigint",
  held_minor: "bigint",
  created_at: "bigint",
});
// A client belongs to one tenant; a wallet of another tenant is never touched (no row comes
// back, and the batch is refused).
const WALLET_UPSERT = `ON CONFLICT (client_id, currency) DO UPDATE
  SET balance_minor = wallets.balance_minor + excluded.balance_minor
  WHERE wallets.tenant_id = excluded.tenant_id
  RETURNING id`.replace(/\s+/g, " ");

const LEDGER_ENTRIES = tableColumns<LedgerEntriesTable>("ledger_entries", {
  id: "text",
  tenant_id: "text",
  wallet_id: "text",
  amount_minor: "bigint",
  kind: "text",
  deposit_id: "text",
  withdrawal_id: "text",
  memo: "text",
  created_at: "bigint",
});

export type LedgerMismatch = {
  walletId: string;
  balanceMinor: bigint;
  ledgerSumMinor: bigint;
  heldMinor: bigint;
  holdSumMinor: bigint;
};

/**
 * The ledger invariant: every wallet's cached balance equals the sum of its entries that move
 * the balance, and its held amount the sum of its hold entries. Returns the wallets where it
 * does not hold (none, always). Scoped to one tenant when given. (A hold never exceeds the
 * available balance when placed; a later negative adjustment may leave less available.)
 */
export async function findLedgerMismatches(db: Db, tenantId?: string): Promise<LedgerMismatch[]> {
  const holds = sql.join(HOLD_KINDS.map((k) => sql.lit(k)));
  let q = db
    .selectFrom("wallets as w")
    .leftJoin("ledger_entries as e", "e.wallet_id", "w.id")
    .select([
      "w.id",
      "w.balance_minor",
      "w.held_minor",
      sql<string | number | null>`sum(case when e.kind in (${holds}) then 0 else e.amount_minor end)`.as(
        "total",
      ),
      sql<string | number | null>`sum(case when e.kind in (${holds}) then e.amount_minor else 0 end)`.as(
        "held",
      ),
    ])
    .groupBy(["w.id", "w.balance_minor", "w.held_minor"]);
  if (tenantId) q = q.where("w.tenant_id", "=", tenantId);
  const rows = await q.execute();
  return rows
    .map((r) => ({
      walletId: r.id,
      balanceMinor: toBigInt(r.balance_minor),
      ledgerSumMinor: toBigInt(r.total),
      heldMinor: toBigInt(r.held_minor),
      holdSumMinor: toBigInt(r.held),
    }))
    .filter((r) => r.balanceMinor !== r.ledgerSumMinor || r.heldMinor !== r.holdSumMinor);
}
