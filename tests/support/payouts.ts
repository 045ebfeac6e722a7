import { signPayoutCallback } from "@psphub/protocol";
import { newId } from "../../apps/server/src/common/ids.js";
import { createWithdrawalMethod } from "../../apps/server/src/modules/withdrawals/manage-withdrawal-methods.js";
import { orderNo, type ScratchDb, type Seed, withContext } from "./seed.js";

/**
 * Payouts through an integration for benchmarks and reliability tests (docs/psp-open-api.md#payouts):
 * the withdrawal method (2 levels, the payout started after the last), signed API-5 bodies,
 * withdrawals already `paying` inserted in bulk with their holds (B7), and each payout's ledger
 * entries read back. Every amount is the method's: a withdrawal of USD 100.00, fee 1 % + 0.50,
 * pays out 98.50.
 */

export const PAYOUT = {
  amountMinor: 10_000,
  feeMinor: 150,
  payoutMinor: 9_850,
  /** What the client asks for (the portal's decimal text). */
  amountText: "100.00",
  /** API-4's and API-5's `amount`: a JSON number, its shortest literal. */
  payoutAmount: 98.5,
} as const;

/** A client field of the method, sent in API-4. */
export const PAYOUT_FIELDS = { iban: "DE89370400440532013000" } as const;

/** The method's input (`POST /api/admin/withdrawal-methods`, or the use-case): paid through `integrationId`. */
export const payoutMethodInput = (integrationId: string) => ({
  name: "Bank payout (through the PSP)",
  currencies: [{ code: "USD", min: "10.00", max: "5000.00", feePercent: "1", feeFixed: "0.50" }],
  fields: [{ key: "iban", label: "IBAN", required: true }],
  payoutMode: "integration" as const,
  integrationId,
  approval: {
    bands: [{ from: "0", levels: 2 }],
    rolesByLevel: [
      ["admin", "owner"],
      ["admin", "owner"],
    ] as ("admin" | "owner")[][],
    autoPayout: true,
  },
  failedPayout: "release" as const,
});

/** The method through the server's own use-case (audited as the system); returns its id. */
export async function createPayoutMethod(bdb: ScratchDb, s: Seed): Promise<string> {
  return withContext(bdb, async (ctx) => {
    const m = await createWithdrawalMethod(
      ctx,
      { tenantId: s.tenantId, audit: { type: "system", id: null }, ip: null },
      payoutMethodInput(s.integrationId),
    );
    return m.id;
  });
}

/** A signed API-5 body (JSON text) for payout `payoutNo`: `status` 1 paid, 0 failed, 2 processing. */
export function payoutCallbackBody(
  s: Pick<Seed, "merchantId" | "token">,
  payoutNo: string,
  status: 0 | 1 | 2 = 1,
) {
  return JSON.stringify(
    signPayoutCallback(
      {
        merchantId: s.merchantId,
        payoutNo,
        amount: PAYOUT.payoutAmount,
        currency: "USD",
        status,
        time: 1_767_225_600_000,
        transactionId: `tx-${payoutNo}`,
      },
      s.token,
    ),
  );
}

/** Signed "paid" API-5 bodies for payouts `prefix…from` to `…from+count-1`. */
export function paidPayoutBodies(
  s: Pick<Seed, "merchantId" | "token">,
  prefix: string,
  count: number,
  from = 0,
) {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = payoutCallbackBody(s, orderNo(prefix, from + i));
  return out;
}

const WITHDRAWAL_COLUMNS =
  "id, tenant_id, payout_no, client_id, wallet_id, method_id, currency, decimals, amount_minor, fee_minor, payout_minor, fields, status, levels_required, levels_done, requested_by_staff_id, idempotency_key, client_reason, payout_reference, created_at, updated_at, integration_id, transaction_id, payout_due, payout_step, needs_assistance";
const LEDGER_COLUMNS =
  "id, tenant_id, wallet_id, amount_minor, kind, deposit_id, withdrawal_id, memo, created_at";

/**
 * Inserts withdrawals `prefix…from` to `prefix…from+count-1` (their payout_no, as orderNo makes
 * it), spread over the seed's clients, in the state an accepted API-4 leaves them: `paying`
 * through the seed's integration, both levels decided, the backend's transaction id, the next
 * status query due at `payoutDue` (null: none). The money is as the use-cases leave it: each
 * client's USD wallet is first credited by an `adjustment` of exactly what its new withdrawals
 * hold, then one `withdrawal_hold` entry per withdrawal, the wallet's balance and held moved by
 * the same sums (balance = the sum of balance entries, held = the sum of hold entries). The
 * decisions and timeline rows are not written: nothing on the API-5 path reads them.
 * SQLite: prepared statements in transactions; PostgreSQL: INSERT … SELECT over unnested arrays.
 */
export async function insertPayingWithdrawals(
  bdb: ScratchDb,
  s: Seed,
  methodId: string,
  opts: { prefix: string; from?: number; count: number; payoutDue?: number | null },
): Promise<void> {
  const from = opts.from ?? 0;
  const now = Date.now();
  const n = s.clientIds.length;
  const due = opts.payoutDue === undefined ? null : opts.payoutDue;
  // Every client's USD wallet, created if it has none yet (as a first credit would).
  const walletRows = s.clientIds.map((c) => [newId(), s.tenantId, c, "USD", 0, 0, now]);
  await insertRows(
    bdb,
    "INSERT INTO wallets (id, tenant_id, client_id, currency, balance_minor, held_minor, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (client_id, currency) DO NOTHING",
    walletRows,
  );
  const wallets = await bdb.raw.all<{ id: string; client_id: string }>(
    "SELECT id, client_id FROM wallets WHERE tenant_id = ? AND currency = 'USD'",
    [s.tenantId],
  );
  const walletOf = new Map(wallets.map((w) => [w.client_id, w.id]));
  const walletIds = s.clientIds.map((c) => walletOf.get(c)!);
  // What each client's new withdrawals hold.
  const perClient = new Array<number>(n).fill(0);
  for (let i = from; i < from + opts.count; i++) perClient[i % n]! += PAYOUT.amountMinor;
  const funded = walletIds.map((w, k) => ({ wallet: w, amount: perClient[k]! })).filter((f) => f.amount > 0);
  await insertRows(
    bdb,
    `INSERT INTO ledger_entries (${LEDGER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)`,
    funded.map((f) => [
      newId(),
      s.tenantId,
      f.wallet,
      f.amount,
      "adjustment",
      null,
      null,
      "bench funding",
      now,
    ]),
  );
  const fields = JSON.stringify(PAYOUT_FIELDS);
  const ids = Array.from({ length: opts.count }, () => newId());
  const holdIds = Array.from({ length: opts.count }, () => newId());
  if (bdb.raw.bulk) {
    const rows = function* () {
      for (let k = 0; k < opts.count; k++) {
        const i = from + k;
        const no = orderNo(opts.prefix, i);
        yield [
          ids[k],
          s.tenantId,
          no,
          s.clientIds[i % n],
          walletIds[i % n],
          methodId,
          "USD",
          2,
          PAYOUT.amountMinor,
          PAYOUT.feeMinor,
          PAYOUT.payoutMinor,
          fields,
          "paying",
          2,
          2,
          null,
          null,
          null,
          null,
          now,
          now,
          s.integrationId,
          `tx-${no}`,
          due,
          0,
          null,
        ];
      }
    };
    bdb.raw.bulk(
      `INSERT INTO withdrawals (${WITHDRAWAL_COLUMNS}) VALUES (${Array(26).fill("?").join(",")})`,
      rows(),
    );
    const holds = function* () {
      for (let k = 0; k < opts.count; k++) {
        const i = from + k;
        yield [
          holdIds[k],
          s.tenantId,
          walletIds[i % n],
          PAYOUT.amountMinor,
          "withdrawal_hold",
          null,
          ids[k],
          null,
          now,
        ];
      }
    };
    bdb.raw.bulk(`INSERT INTO ledger_entries (${LEDGER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)`, holds());
    bdb.raw.bulk(
      "UPDATE wallets SET balance_minor = balance_minor + ?, held_minor = held_minor + ? WHERE id = ?",
      funded.map((f) => [f.amount, f.amount, f.wallet]),
    );
    return;
  }
  // PostgreSQL: one statement per table (arrays unnested once, as insertOrders does).
  await bdb.raw.exec(
    `INSERT INTO withdrawals (${WITHDRAWAL_COLUMNS})
     SELECT u.id, ?, ? || lpad(u.i::text, ?, '0'), c.client_id, c.wallet_id, ?, 'USD', 2,
            ?, ?, ?, ?, 'paying', 2, 2, NULL, NULL, NULL, NULL, ?::bigint, ?::bigint, ?,
            'tx-' || ? || lpad(u.i::text, ?, '0'), ?::bigint, 0, NULL
     FROM (SELECT x.id, (?::int + x.k::int - 1) AS i FROM unnest(?::text[]) WITH ORDINALITY AS x (id, k)) AS u
     JOIN unnest(?::text[], ?::text[]) WITH ORDINALITY AS c (client_id, wallet_id, k) ON c.k = 1 + u.i % ?`,
    [
      s.tenantId,
      opts.prefix,
      12 - opts.prefix.length,
      methodId,
      PAYOUT.amountMinor,
      PAYOUT.feeMinor,
      PAYOUT.payoutMinor,
      fields,
      now,
      now,
      s.integrationId,
      opts.prefix,
      12 - opts.prefix.length,
      due,
      from,
      ids,
      s.clientIds,
      walletIds,
      n,
    ],
  );
  await bdb.raw.exec(
    `INSERT INTO ledger_entries (${LEDGER_COLUMNS})
     SELECT h.id, w.tenant_id, w.wallet_id, w.amount_minor, 'withdrawal_hold', NULL, w.id, NULL, w.created_at
     FROM unnest(?::text[], ?::text[]) AS h (id, wid) JOIN withdrawals w ON w.id = h.wid`,
    [holdIds, ids],
  );
  await bdb.raw.exec(
    `UPDATE wallets w SET balance_minor = w.balance_minor + f.amount, held_minor = w.held_minor + f.amount
     FROM unnest(?::text[], ?::bigint[]) AS f (id, amount) WHERE w.id = f.id`,
    [funded.map((f) => f.wallet), funded.map((f) => f.amount)],
  );
  await bdb.raw.exec("ANALYZE withdrawals");
}

/** Row inserts: SQLite in one prepared-statement transaction, PostgreSQL in multi-row batches. */
async function insertRows(bdb: ScratchDb, sql: string, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  if (bdb.raw.bulk) {
    bdb.raw.bulk(sql, rows);
    return;
  }
  const head = sql.slice(0, sql.indexOf("VALUES") + "VALUES".length);
  const tail = sql.slice(sql.indexOf(")", sql.indexOf("VALUES")) + 1);
  const width = rows[0]!.length;
  const tuple = `(${Array(width).fill("?").join(",")})`;
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    await bdb.raw.exec(`${head} ${batch.map(() => tuple).join(",")}${tail}`, batch.flat());
  }
}

export type PayoutSettlement = {
  payout_no: string;
  status: string;
  holds: number;
  releases: number;
  debits: number;
  /** The sum of its debit entries (minor units, negative). */
  debited: number;
};

/** Every withdrawal whose payout_no starts with `prefix`: its status and its ledger entries by kind. */
export async function payoutSettlements(
  bdb: ScratchDb,
  prefix: string,
): Promise<Map<string, PayoutSettlement>> {
  const rows = await bdb.raw.all<Record<keyof PayoutSettlement, string | number>>(
    `SELECT w.payout_no, w.status,
            SUM(CASE WHEN e.kind = 'withdrawal_hold' THEN 1 ELSE 0 END) AS holds,
            SUM(CASE WHEN e.kind = 'withdrawal_release' THEN 1 ELSE 0 END) AS releases,
            SUM(CASE WHEN e.kind = 'withdrawal_debit' THEN 1 ELSE 0 END) AS debits,
            COALESCE(SUM(CASE WHEN e.kind = 'withdrawal_debit' THEN e.amount_minor ELSE 0 END), 0) AS debited
     FROM withdrawals w LEFT JOIN ledger_entries e ON e.withdrawal_id = w.id
     WHERE w.payout_no LIKE ? GROUP BY w.id, w.payout_no, w.status`,
    [`${prefix}%`],
  );
  return new Map(
    rows.map((r) => [
      String(r.payout_no),
      {
        payout_no: String(r.payout_no),
        status: String(r.status),
        holds: Number(r.holds),
        releases: Number(r.releases),
        debits: Number(r.debits),
        debited: Number(r.debited),
      },
    ]),
  );
}

/** Paid exactly once: status paid, one hold, one release and one debit of the amount. */
export const paidOnce = (p: PayoutSettlement | undefined): boolean =>
  p !== undefined &&
  p.status === "paid" &&
  p.holds === 1 &&
  p.releases === 1 &&
  p.debits === 1 &&
  p.debited === -PAYOUT.amountMinor;
