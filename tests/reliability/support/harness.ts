import { type SendCallbackResult, sendCallback } from "@psphub/sdk";
import { expect } from "vitest";
import { killAll, type PsphubProcess, startPsphub } from "../../support/processes.js";
import {
  createScratchDatabase,
  creditTotals,
  type DbKind,
  ORDER,
  orderCredits,
  orderNo,
  type ScratchDb,
  type Seed,
  walletMismatches,
} from "../../support/seed.js";

/**
 * The reliability suite's harness: real `psphub serve` child processes (TypeScript source through
 * tsx, so CI needs no build) on loopback, fresh databases from tests/support/seed.ts, the SDK's
 * retrying callback sender, and the money invariants checked straight in the database.
 */

export { createScratchDatabase, type DbKind, ORDER, orderNo, type ScratchDb, type Seed };

/** Every database and child a test file made, for afterAll. */
const dbs = new Set<ScratchDb>();
const servers: PsphubProcess[] = [];

export async function freshDatabase(kind: DbKind, label: string): Promise<ScratchDb> {
  const db = await createScratchDatabase(kind, label);
  dbs.add(db);
  return db;
}

/** Kills every child this file started and drops every database it made. */
export async function cleanUp(): Promise<void> {
  await killAll();
  for (const db of dbs) await db.drop().catch(() => {});
  dbs.clear();
}

/** A `psphub serve` child on the database, logging at info (every line kept for the token check). */
export async function serve(db: ScratchDb, env: Record<string, string> = {}): Promise<PsphubProcess> {
  const p = await startPsphub({
    mode: "source",
    keepOutput: true,
    env: {
      ...db.env,
      HOST: "127.0.0.1",
      PORT: "0",
      PUBLIC_BASE_URL: "http://127.0.0.1:3000",
      LOG_LEVEL: "info",
      EXPIRY_SWEEP_SECONDS: "0",
      // The runner's lower scrypt cost (vitest.reliability.config.ts) for its servers too; the
      // server accepts it only with NODE_ENV=test (config.ts).
      ...(process.env.PSPHUB_SCRYPT_N
        ? { PSPHUB_SCRYPT_N: process.env.PSPHUB_SCRYPT_N, NODE_ENV: "test" }
        : {}),
      ...env,
    },
    startTimeoutMs: 90_000,
  });
  servers.push(p);
  return p;
}

/** Every output line of every server this file started, with the lines that mention `secret`. */
export function linesMentioning(secret: string): string[] {
  return servers.flatMap((s) => s.output.filter((l) => l.includes(secret)));
}

/**
 * A tenant backend reporting a success for order `prefix…i` with the SDK's sender, which retries
 * network errors and 5xx with backoff until `deadlineMs`, and stops at 204 or any 4xx.
 */
export function reportSuccess(
  baseUrl: () => string,
  s: Seed,
  no: string,
  opts: { deadlineMs?: number } = {},
): Promise<SendCallbackResult> {
  return sendCallback({
    callbackUrl: `${baseUrl()}/api/psp`,
    token: s.token,
    callback: {
      merchantId: s.merchantId,
      orderNo: no,
      amount: ORDER.amountText,
      currency: "USD",
      status: 1,
      time: 1_767_225_600_000,
      transactionId: `tx-${no}`,
    },
    deadlineMs: opts.deadlineMs ?? 120_000,
    attemptTimeoutMs: 10_000,
    retry: { baseMs: 50, maxMs: 500 },
    // The URL may change between attempts (a restarted server): read it on every attempt.
    fetch: (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const path = new URL(url).pathname;
      return fetch(`${baseUrl()}${path}`, init);
    },
  });
}

/** Runs `tasks` with at most `limit` at once. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The money invariants after a storm: every order with the prefix succeeded and was credited
 * exactly once with its credit; no deposit credited twice anywhere; every wallet's balance equals
 * its ledger sum; and exactly one `accepted` callback log per order (the rest are duplicates).
 */
export async function expectEachCreditedOnce(db: ScratchDb, prefix: string, count: number): Promise<void> {
  const credits = await orderCredits(db, prefix);
  expect(credits.size).toBe(count);
  const wrong = [...credits.values()].filter(
    (c) => c.status !== "succeeded" || c.credits !== 1 || c.credited !== ORDER.creditMinor,
  );
  expect(wrong.slice(0, 5)).toEqual([]);
  const totals = await creditTotals(db);
  expect(totals.doubles).toBe(0);
  expect(await walletMismatches(db)).toEqual([]);
  const accepted = await db.raw.all<{ order_no: string; n: number | string }>(
    `SELECT order_no, COUNT(*) AS n FROM callback_logs WHERE verdict = 'accepted' AND order_no LIKE ?
     GROUP BY order_no`,
    [`${prefix}%`],
  );
  expect(accepted.length).toBe(count);
  expect(accepted.filter((a) => Number(a.n) !== 1)).toEqual([]);
}

/** Everything a refused request must leave alone: orders, wallets, ledger. */
export async function moneySnapshot(db: ScratchDb): Promise<string> {
  const deposits = await db.raw.all(
    "SELECT id, status, amount_minor, credit_minor, paid_amount_minor, transaction_id, finalized_at FROM deposits ORDER BY id",
  );
  const wallets = await db.raw.all("SELECT id, client_id, currency, balance_minor FROM wallets ORDER BY id");
  const ledger = await db.raw.all(
    "SELECT id, wallet_id, amount_minor, kind, deposit_id FROM ledger_entries ORDER BY id",
  );
  return JSON.stringify({ deposits, wallets, ledger }, (_k, v) => (typeof v === "bigint" ? Number(v) : v));
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};

/** Log in to the portal as client `i` of the seed; cookie and CSRF headers for writes. */
export async function portalLogin(base: string, s: Seed, i = 0): Promise<Record<string, string>> {
  const res = await fetch(`${base}/api/portal/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: s.slug, email: `client-${i}@bench.test`, password: s.clientPassword }),
  });
  if (res.status !== 200) throw new Error(`portal login: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, "x-csrf-token": csrfToken };
}

/** One signed callback, sent once with no retry: the answer's status. */
export async function sendCallbackOnce(server: PsphubProcess, token: string, body: string): Promise<number> {
  const res = await fetch(`${server.url}/api/psp/pay/callback`, {
    method: "POST",
    headers: { "content-type": "application/json", "crm-pay-token": token },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
