import ipaddr from "ipaddr.js";
import { sql } from "kysely";
import type { AppContext } from "../../app-context.js";
import { RateLimitedError } from "../../common/errors.js";
import { sha256Hex } from "../../infra/crypto/hashing.js";
import type { Db } from "../../infra/db/database.js";

/**
 * Limits password guessing. Three counters per attempt, each with its own
 * limit per window: the (address, account) pair, the account across addresses, and the address
 * across accounts. They live in the database (`login_attempts`), so every server process shares
 * them.
 *
 * An attempt is reserved BEFORE its password is checked, by one conditional upsert per counter
 * that increments and returns the count, or refuses when the counter is full: parallel requests
 * and other processes cannot get more checks than the limit. A refused attempt is answered 429
 * (with Retry-After) without checking the password, and counts nothing.
 *
 * Only failures count: a success gives back its own reservation and nothing else. It never
 * clears failures, its own pair's included: the window simply expires. So the owner logging in
 * cannot reset the counters an attacker has filled, and a tired typist waits out one window.
 */
export const LOGIN_WINDOW_MS = 60_000;

export type LoginLimits = { perPair: number; perAccount: number; perIp: number; windowMs: number };

export const loginLimitsOf = (c: AppContext["config"]): LoginLimits => ({
  perPair: c.loginRateLimitPerMinute,
  perAccount: c.loginRateLimitPerAccountPerMinute,
  perIp: c.loginRateLimitPerIpPerMinute,
  windowMs: LOGIN_WINDOW_MS,
});

/**
 * The address a counter is kept for: an IPv4 address, or an IPv6 /64 (one subscriber's usual
 * allocation, so a host cannot walk its own prefix to get a fresh counter per address).
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const a = ipaddr.parse(ip);
  if (a.kind() === "ipv4") return a.toString();
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(":")}::/64`;
}

export type Counter = { key: string; limit: number };

/**
 * The attempt's counters, most specific first. Keys are hashed: what people type into the
 * e-mail field (sometimes their password) is never stored.
 */
export function loginCounters(limits: LoginLimits, ip: string, account: string): Counter[] {
  const addr = addressKey(ip);
  const acct = account.trim().toLowerCase();
  return [
    { key: sha256Hex(`pair\u0000${addr}\u0000${acct}`), limit: limits.perPair },
    { key: sha256Hex(`account\u0000${acct}`), limit: limits.perAccount },
    { key: sha256Hex(`ip\u0000${addr}`), limit: limits.perIp },
  ];
}

/** Seconds until a window that began at `windowStart` ends, at least 1. */
export const retryAfterSeconds = (windowStart: number, windowMs: number, now: number): number =>
  Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));

type Reserved = { key: string; windowStart: number };

/**
 * Takes one attempt from the counter, atomically: a new or expired window starts at 1; a window
 * under its limit goes up by one; a full window is left alone and returns nothing.
 */
async function take(db: Db, c: Counter, now: number, windowMs: number): Promise<Reserved | undefined> {
  const expired = now - windowMs;
  const row = await db
    .insertInto("login_attempts")
    .values({ key: c.key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc
        .column("key")
        .doUpdateSet({
          count: sql<number>`case when login_attempts.window_start <= ${expired} then 1 else login_attempts.count + 1 end`,
          window_start: sql<number>`case when login_attempts.window_start <= ${expired} then ${now} else login_attempts.window_start end`,
        })
        .where(sql<boolean>`login_attempts.window_start <= ${expired} or login_attempts.count < ${c.limit}`),
    )
    .returning(["window_start"])
    .executeTakeFirst();
  return row ? { key: c.key, windowStart: Number(row.window_start) } : undefined;
}

/** Gives an attempt back to the window it was taken from (not to a later one). */
async function giveBack(db: Db, taken: Reserved[]): Promise<void> {
  for (const r of taken)
    await db
      .updateTable("login_attempts")
      .set({ count: sql<number>`count - 1` })
      .where("key", "=", r.key)
      .where("window_start", "=", r.windowStart)
      .where("count", ">", 0)
      .execute();
}

export type LoginAttempt = {
  /** The login succeeded (or failed for a reason other than the credentials): give the attempt back. */
  release(): Promise<void>;
};

/**
 * Reserves one attempt on each of the attempt's counters, or throws RateLimitedError (with the
 * seconds until the full counter's window ends) after giving back what it had taken.
 */
export async function reserveLoginAttempt(
  db: Db,
  limits: LoginLimits,
  now: number,
  ip: string,
  account: string,
): Promise<LoginAttempt> {
  const taken: Reserved[] = [];
  for (const c of loginCounters(limits, ip, account)) {
    const r = await take(db, c, now, limits.windowMs);
    if (r) {
      taken.push(r);
      continue;
    }
    await giveBack(db, taken);
    const full = await db
      .selectFrom("login_attempts")
      .select("window_start")
      .where("key", "=", c.key)
      .executeTakeFirst();
    throw new RateLimitedError(
      "Too many login attempts, try again later",
      retryAfterSeconds(Number(full?.window_start ?? now), limits.windowMs, now),
    );
  }
  return { release: () => giveBack(db, taken) };
}

/** Deletes counters whose window ended before `now`: they would restart at 1 anyway. */
export async function pruneLoginAttempts(db: Db, now: number, windowMs = LOGIN_WINDOW_MS): Promise<void> {
  await db
    .deleteFrom("login_attempts")
    .where("window_start", "<=", now - windowMs)
    .execute();
}

/** The background job (main.ts BACKGROUND_JOBS); safe in several processes at once. */
export const pruneLoginAttemptsJob = (ctx: Pick<AppContext, "db" | "clock">): Promise<void> =>
  pruneLoginAttempts(ctx.db, ctx.clock.now());
