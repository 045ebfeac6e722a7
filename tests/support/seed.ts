import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCallback } from "@psphub/sdk";
import SQLite from "better-sqlite3";
import pg from "pg";
import { createAppContext } from "../../apps/server/src/app-context.js";
import { newId } from "../../apps/server/src/common/ids.js";
import { loadConfig } from "../../apps/server/src/config/config.js";
import { hashPassword } from "../../apps/server/src/infra/crypto/hashing.js";
import { migrateToLatest } from "../../apps/server/src/infra/db/database.js";
import { numbered } from "../../apps/server/src/infra/db/sql-text.js";
import { createTenant } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { insertIntegration, insertMethod } from "../../apps/server/src/test/payment-fixtures.js";

/**
 * Databases for benchmarks and reliability tests: a fresh SQLite file or a fresh PostgreSQL
 * database (dropped afterwards), seeded through the server's own modules (tenant, integration,
 * method), then filled with bulk inserts (clients, orders) that no per-row API could do fast.
 */

export type DbKind = "sqlite" | "postgres";
export const PG_ADMIN_URL = process.env.PSPHUB_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A deposit's amounts in the seeded method: USD 100.00, fee 2.80, credit 97.20. */
export const ORDER = {
  amountMinor: 10_000,
  feeMinor: 280,
  creditMinor: 9_720,
  amountText: "100.00",
} as const;

export type ScratchDb = {
  kind: DbKind;
  /** The server's environment for this database (DATABASE_URL, DATA_DIR, ENCRYPTION_KEY). */
  env: Record<string, string>;
  raw: RawDb;
  drop(): Promise<void>;
};

/** Plain SQL on either database, `?` placeholders on both. */
export type RawDb = {
  exec(sql: string, params?: unknown[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** SQLite: one transaction around a prepared statement run per row. */
  bulk?(sql: string, rows: Iterable<unknown[]>): number;
  close(): Promise<void>;
};

function openRaw(kind: DbKind, url: string): RawDb {
  if (kind === "sqlite") {
    const db = new SQLite(url.slice("sqlite:".length));
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
    db.defaultSafeIntegers(false);
    return {
      async exec(sql, params = []) {
        db.prepare(sql).run(...params);
      },
      async all<T>(sql: string, params: unknown[] = []) {
        return db.prepare(sql).all(...params) as T[];
      },
      bulk(sql, rows) {
        const stmt = db.prepare(sql);
        let n = 0;
        db.transaction(() => {
          for (const r of rows) {
            stmt.run(...r);
            n++;
          }
        })();
        return n;
      },
      async close() {
        db.close();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => {});
  return {
    async exec(sql, params = []) {
      await pool.query(numbered(sql), params);
    },
    async all<T>(sql: string, params: unknown[] = []) {
      return (await pool.query(numbered(sql), params)).rows as T[];
    },
    async close() {
      await pool.end();
    },
  };
}

const open = new Set<ScratchDb>();

/** Drops every database this process made and has not dropped yet (for signal handlers). */
export async function dropAll(): Promise<void> {
  for (const db of [...open]) await db.drop().catch(() => {});
}

/** A fresh, migrated database of the given kind. */
export async function createScratchDatabase(kind: DbKind, label = "bench"): Promise<ScratchDb> {
  const dataDir = mkdtempSync(join(tmpdir(), `psphub-${label}-`));
  const key = randomBytes(32).toString("base64");
  let url: string;
  let dropPg: (() => Promise<void>) | undefined;
  if (kind === "sqlite") {
    url = `sqlite:${join(dataDir, "psphub.sqlite")}`;
  } else {
    const name = `psphub_${label}_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    dropPg = async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const env = { DATABASE_URL: url, DATA_DIR: dataDir, ENCRYPTION_KEY: key };
  const ctx = createAppContext(loadConfig({ ...env, LOG_LEVEL: "silent" }));
  try {
    await migrateToLatest(ctx.db);
  } finally {
    await ctx.close();
  }
  const raw = openRaw(kind, url);
  let dropped = false;
  const bdb: ScratchDb = {
    kind,
    env,
    raw,
    async drop() {
      if (dropped) return;
      dropped = true;
      open.delete(bdb);
      await raw.close().catch(() => {});
      await dropPg?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  open.add(bdb);
  return bdb;
}

export type Seed = {
  tenantId: string;
  slug: string;
  ownerEmail: string;
  ownerPassword: string;
  integrationId: string;
  merchantId: string;
  token: string;
  methodId: string;
  /**
   * A method paying EUR into the USD wallet at the rate of an external source whose URL is the
   * integration's APP_URL + `/fx/rate` (B3's stub answers it), cached for 5 minutes.
   */
  fxMethodId: string;
  clientIds: string[];
  /** Every seeded client logs in with `client-<i>@bench.test` and this password. */
  clientPassword: string;
};

export const clientEmail = (i: number) => `client-${i}@bench.test`;

/**
 * One tenant with its owner, one integration (the given APP_URL and API-1 timeout), one USD
 * method and `clients` clients, through the server's own code except the clients (bulk).
 */
export async function seed(
  bdb: ScratchDb,
  opts: {
    clients: number;
    appUrl?: string;
    api1TimeoutMs?: number;
    slug?: string;
    /** First letter of the client ids (another seed in the same database needs another). */
    clientPrefix?: string;
  },
): Promise<Seed> {
  const ctx = createAppContext(loadConfig({ ...bdb.env, LOG_LEVEL: "silent" }));
  const slug = opts.slug ?? "bench";
  const ownerPassword = "bench owner password";
  const clientPassword = "bench client password";
  try {
    const { tenantId } = await createTenant(ctx, {
      slug,
      name: "Bench Ltd",
      owner: { email: `owner@${slug}.test`, name: "Owner", password: ownerPassword },
    });
    const integ = await insertIntegration(ctx, tenantId, {
      appUrl: opts.appUrl ?? "https://psp.example.com",
      api1TimeoutMs: opts.api1TimeoutMs ?? 10_000,
    });
    const methodId = await insertMethod(ctx, tenantId, integ.integrationId, {
      currencies: [
        {
          code: "USD",
          decimals: 2,
          minMinor: 1_000n,
          maxMinor: 500_000n,
          feePercentBps: 250,
          feeFixedMinor: 30n,
          feeMaxMinor: 2_000n,
        },
      ],
    });
    const fxMethodId = await insertFxMethod(
      ctx,
      tenantId,
      integ.integrationId,
      `${opts.appUrl ?? "https://psp.example.com"}/fx/rate`,
    );
    const hash = await hashPassword(clientPassword);
    const now = Date.now();
    const clientIds = Array.from(
      { length: opts.clients },
      (_, i) => `${opts.clientPrefix ?? "c"}${String(i).padStart(7, "0")}`,
    );
    const rows = clientIds.map((id, i) => [
      id,
      tenantId,
      `Client ${i}`,
      clientEmail(i),
      "+1 555 0100",
      "us",
      "en-us",
      null,
      hash,
      now,
    ]);
    await insertRows(
      bdb,
      "INSERT INTO clients (id, tenant_id, name, email, phone, nationality, language, client_group, password_hash, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
      rows,
    );
    return {
      tenantId,
      slug,
      ownerEmail: `owner@${slug}.test`,
      ownerPassword,
      ...integ,
      methodId,
      fxMethodId,
      clientIds,
      clientPassword,
    };
  } finally {
    await ctx.close();
  }
}

/** An external rate source at `url` (B3: the stub's `/fx/rate`) and a method converting EUR into USD with it (Seed.fxMethodId). */
async function insertFxMethod(
  ctx: ReturnType<typeof createAppContext>,
  tenantId: string,
  integrationId: string,
  url: string,
): Promise<string> {
  const now = Date.now();
  const sourceId = newId();
  const key = randomBytes(32).toString("base64url");
  await ctx.db
    .insertInto("fx_sources")
    .values({
      id: sourceId,
      tenant_id: tenantId,
      kind: "external",
      name: "Bench rates",
      url,
      key_enc: ctx.secretBox.seal(key),
      key_last4: key.slice(-4),
      timeout_ms: 3_000,
      ttl_seconds: 300,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
  return insertMethod(ctx, tenantId, integrationId, {
    currencies: [
      {
        code: "EUR",
        decimals: 2,
        minMinor: 1_000n,
        maxMinor: 500_000n,
        feePercentBps: 250,
        feeFixedMinor: 25n,
        feeMaxMinor: 2_000n,
        conversion: {
          account: "USD",
          accountDecimals: 2,
          rules: [{ group: null, sourceId, markupBps: 50 }],
        },
      },
    ],
  });
}

/** Runs `fn` with a server AppContext on the database (for the server's own insert helpers). */
export async function withContext<T>(
  bdb: ScratchDb,
  fn: (ctx: ReturnType<typeof createAppContext>) => Promise<T>,
): Promise<T> {
  const ctx = createAppContext(loadConfig({ ...bdb.env, LOG_LEVEL: "silent" }));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Row inserts: SQLite in one prepared-statement transaction, PostgreSQL in multi-row batches. */
async function insertRows(bdb: ScratchDb, sql: string, rows: unknown[][]): Promise<void> {
  if (bdb.raw.bulk) {
    bdb.raw.bulk(sql, rows);
    return;
  }
  const head = sql.slice(0, sql.indexOf("VALUES") + "VALUES".length);
  const width = rows[0]?.length ?? 0;
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    const tuple = `(${Array(width).fill("?").join(",")})`;
    await bdb.raw.exec(`${head} ${batch.map(() => tuple).join(",")}`, batch.flat());
  }
}

const DEPOSIT_COLUMNS =
  "id, tenant_id, order_no, client_id, method_id, integration_id, currency, decimals, amount_minor, fee_minor, credit_minor, status, fields, payment_url, expires_at, created_at, updated_at, finalized_at, failure_reason";

/** `prefix` + the index, zero-padded to 12 characters (the length of a real order_no). */
export const orderNo = (prefix: string, i: number) =>
  `${prefix}${String(i).padStart(12 - prefix.length, "0")}`;

/**
 * Inserts orders `prefix…from` to `prefix…to-1`, spread over the seed's clients: `pending`
 * (payable, expiring in an hour), or `history`: final orders of the past (failed and expired,
 * no money moved) to grow the table. SQLite: one transaction with a prepared statement;
 * PostgreSQL: INSERT … SELECT generate_series.
 */
export async function insertOrders(
  bdb: ScratchDb,
  s: Seed,
  opts: { prefix: string; from?: number; count: number; kind: "pending" | "history" },
): Promise<void> {
  const from = opts.from ?? 0;
  const now = Date.now();
  const pending = opts.kind === "pending";
  if (bdb.raw.bulk) {
    const rows = function* () {
      for (let i = from; i < from + opts.count; i++) {
        const failed = i % 4 !== 0;
        yield [
          newId(),
          s.tenantId,
          orderNo(opts.prefix, i),
          s.clientIds[i % s.clientIds.length],
          s.methodId,
          s.integrationId,
          "USD",
          2,
          ORDER.amountMinor,
          ORDER.feeMinor,
          ORDER.creditMinor,
          pending ? "pending" : failed ? "failed" : "expired",
          "{}",
          "https://psp.example.com/pay/x",
          pending ? now + 3_600_000 : now - 86_400_000,
          pending ? now : now - 90_000_000 + i,
          pending ? now : now - 86_000_000,
          pending ? null : now - 86_000_000,
          pending ? null : failed ? "psp_reported_failure" : null,
        ];
      }
    };
    bdb.raw.bulk(
      `INSERT INTO deposits (${DEPOSIT_COLUMNS}) VALUES (${Array(19).fill("?").join(",")})`,
      rows(),
    );
    if (!pending) await settle(bdb);
    return;
  }
  // PostgreSQL: in slices, so that one statement never runs for minutes. The ids (time-ordered,
  // made here like the server's) and the client ids are arrays unnested once per statement: an
  // array parameter subscripted per row has its cast evaluated again for every row (a 200k-row
  // slice took 90 s that way, most of B4's PostgreSQL set-up).
  const SLICE = 200_000;
  for (let a = from; a < from + opts.count; a += SLICE) {
    const b = Math.min(from + opts.count, a + SLICE) - 1;
    const status = pending ? "'pending'" : "CASE WHEN g.i % 4 <> 0 THEN 'failed' ELSE 'expired' END";
    await bdb.raw.exec(
      `INSERT INTO deposits (${DEPOSIT_COLUMNS})
       SELECT g.id, ?, ? || lpad(g.i::text, ?, '0'), c.id, ?, ?, 'USD', 2,
              ?, ?, ?, ${status}, '{}', 'https://psp.example.com/pay/x',
              ?::bigint, ?::bigint + ${pending ? 0 : "g.i"}, ?::bigint, ?::bigint,
              ${pending ? "NULL" : "CASE WHEN g.i % 4 <> 0 THEN 'psp_reported_failure' END"}
       FROM (SELECT u.id, (?::int + u.k::int - 1) AS i FROM unnest(?::text[]) WITH ORDINALITY AS u (id, k)) AS g
       JOIN unnest(?::text[]) WITH ORDINALITY AS c (id, k) ON c.k = 1 + g.i % ?`,
      [
        s.tenantId,
        opts.prefix,
        12 - opts.prefix.length,
        s.methodId,
        s.integrationId,
        ORDER.amountMinor,
        ORDER.feeMinor,
        ORDER.creditMinor,
        pending ? now + 3_600_000 : now - 86_400_000,
        pending ? now : now - 90_000_000,
        pending ? now : now - 86_000_000,
        pending ? null : now - 86_000_000,
        a,
        Array.from({ length: b - a + 1 }, () => newId()),
        s.clientIds,
        s.clientIds.length,
      ],
    );
  }
  if (pending) await bdb.raw.exec("ANALYZE deposits");
  else await settle(bdb);
}

/**
 * After a bulk load, the state a long-lived database is in: statistics current, the WAL
 * checkpointed, PostgreSQL's vacuum done. Otherwise a run measures the load's aftermath
 * (autovacuum and a checkpoint of a million fresh rows), not the size.
 */
async function settle(bdb: ScratchDb): Promise<void> {
  if (bdb.kind === "sqlite") {
    await bdb.raw.exec("ANALYZE");
    await bdb.raw.all("PRAGMA wal_checkpoint(TRUNCATE)");
    return;
  }
  await bdb.raw.exec("VACUUM ANALYZE deposits");
  await bdb.raw.exec("CHECKPOINT");
}

/** Signed success callback bodies (the SDK's encoder) for orders `prefix…from` to `…from+count-1`. */
export function successBodies(s: Seed, prefix: string, count: number, from = 0): string[] {
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const no = orderNo(prefix, from + i);
    out[i] = encodeCallback(
      {
        merchantId: s.merchantId,
        orderNo: no,
        amount: ORDER.amountText,
        currency: "USD",
        status: 1,
        time: 1_767_225_600_000,
        transactionId: `tx-${no}`,
      },
      s.token,
    ).body;
  }
  return out;
}

export type OrderCredit = { order_no: string; status: string; credits: number; credited: number };

/** Every order with the prefix: its status, how many deposit credits it got and their sum. */
export async function orderCredits(bdb: ScratchDb, prefix: string): Promise<Map<string, OrderCredit>> {
  const rows = await bdb.raw.all<OrderCredit>(
    `SELECT d.order_no, d.status, COUNT(e.id) AS credits, COALESCE(SUM(e.amount_minor), 0) AS credited
     FROM deposits d LEFT JOIN ledger_entries e ON e.deposit_id = d.id AND e.kind = 'deposit'
     WHERE d.order_no LIKE ? GROUP BY d.id, d.order_no, d.status`,
    [`${prefix}%`],
  );
  return new Map(
    rows.map((r) => [
      r.order_no,
      { ...r, credits: Number(r.credits), credited: Number(r.credited) } satisfies OrderCredit,
    ]),
  );
}

/**
 * Wallets whose cached balance differs from the sum of their ledger entries that move the
 * balance, or whose held amount differs from the sum of their hold entries (`withdrawal_hold`,
 * `withdrawal_release`: docs/withdrawals.md#the-hold). Always none.
 */
export async function walletMismatches(
  bdb: ScratchDb,
): Promise<{ id: string; balance: number; sum: number; held: number; holdSum: number }[]> {
  const rows = await bdb.raw.all<{
    id: string;
    balance: number | string;
    sum: number | string | null;
    held: number | string;
    hold_sum: number | string | null;
  }>(
    `SELECT w.id, w.balance_minor AS balance, w.held_minor AS held,
            SUM(CASE WHEN e.kind IN ('withdrawal_hold', 'withdrawal_release') THEN 0 ELSE e.amount_minor END) AS sum,
            SUM(CASE WHEN e.kind IN ('withdrawal_hold', 'withdrawal_release') THEN e.amount_minor ELSE 0 END) AS hold_sum
     FROM wallets w LEFT JOIN ledger_entries e ON e.wallet_id = w.id GROUP BY w.id, w.balance_minor, w.held_minor`,
  );
  return rows
    .map((r) => ({
      id: r.id,
      balance: Number(r.balance),
      sum: Number(r.sum ?? 0),
      held: Number(r.held),
      holdSum: Number(r.hold_sum ?? 0),
    }))
    .filter((r) => r.balance !== r.sum || r.held !== r.holdSum);
}

/** Deposit ledger entries in total, and any deposit credited more than once (always none). */
export async function creditTotals(
  bdb: ScratchDb,
): Promise<{ entries: number; sum: number; doubles: number }> {
  const [t] = await bdb.raw.all<{ n: number | string; s: number | string | null }>(
    "SELECT COUNT(*) AS n, SUM(amount_minor) AS s FROM ledger_entries WHERE kind = 'deposit'",
  );
  const [d] = await bdb.raw.all<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM (SELECT deposit_id FROM ledger_entries WHERE kind = 'deposit' GROUP BY deposit_id HAVING COUNT(*) > 1) x",
  );
  return { entries: Number(t?.n ?? 0), sum: Number(t?.s ?? 0), doubles: Number(d?.n ?? 0) };
}
