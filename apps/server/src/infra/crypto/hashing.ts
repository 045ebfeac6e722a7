import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { ServiceBusyError } from "../../common/errors.js";
import { passwordHashLimitsFrom, scryptCostFrom } from "../../config/config.js";
import { createLimiter, type Limiter, LimiterFullError } from "../concurrency/limiter.js";

export type ScryptParams = { N: number; r: number; p: number };

/** r and p of new hashes; N comes from PSPHUB_SCRYPT_N (config.ts: 2^17 or more outside tests). */
const R = 8;
const P = 1;
const KEYLEN = 32;
/** The largest cost a stored hash may ask for (1 GiB of memory): anything above is not ours. */
const MAX_N = 2 ** 20;

let cost: number | undefined;
/** The scrypt N of new hashes, read once from the environment by config.ts's rule. */
export function passwordHashCost(): number {
  cost ??= scryptCostFrom(process.env);
  return cost;
}

/** What a refused hash or check tells the client to wait before sending the same request again. */
export const PASSWORD_HASH_RETRY_AFTER_SECONDS = 5;

let limiter: Limiter | undefined;
/**
 * Every scrypt of this process (hashes, checks, the dummy check of an unknown account alike)
 * passes one FIFO limiter: at most PASSWORD_HASH_CONCURRENCY at once, so that a burst of logins
 * leaves libuv's other threads to dns.lookup and file I/O, and holds at most that many 128 MiB
 * blocks; at most PASSWORD_HASH_QUEUE_LIMIT wait, one more is refused (config.ts).
 */
function hashingLimiter(): Limiter {
  if (!limiter) {
    const { concurrency, queueLimit } = passwordHashLimitsFrom(process.env);
    limiter = createLimiter({ concurrency, maxQueue: queueLimit });
  }
  return limiter;
}

/** Password hashes running and waiting in this process (for tests and diagnostics). */
export function passwordHashingLoad(): { running: number; waiting: number } {
  const l = hashingLimiter();
  return { running: l.running, waiting: l.waiting };
}

async function scryptAsync(password: string, salt: Buffer, { N, r, p }: ScryptParams, keylen: number) {
  // scrypt needs 128·r·(N + p + 2) bytes; node's default ceiling (32 MiB) refuses N = 2^17.
  const maxmem = 128 * r * (N + p + 2) + 1024 * 1024;
  const run = () =>
    new Promise<Buffer>((resolve, reject) =>
      scrypt(password, salt, keylen, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
    );
  try {
    return await hashingLimiter().run(run);
  } catch (err) {
    if (!(err instanceof LimiterFullError)) throw err;
    // Refused before any work: the password was not checked, so this is neither a failure nor a success.
    throw new ServiceBusyError(
      "password_hashing_busy",
      "Too many sign-ins and password changes are in progress; try again in a few seconds",
      PASSWORD_HASH_RETRY_AFTER_SECONDS,
    );
  }
}

/** The parameters of a stored hash, or undefined when it is not a well-formed hash of ours. */
function parse(stored: string): (ScryptParams & { salt: Buffer; hash: Buffer }) | undefined {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const num = (s: string) => (/^[1-9]\d{0,7}$/.test(s) ? Number(s) : Number.NaN);
  const params = { N: num(n), r: num(r), p: num(p) };
  const isPow2 = params.N > 1 && (params.N & (params.N - 1)) === 0;
  if (!isPow2 || params.N > MAX_N || !(params.r <= 32) || !(params.p <= 16)) return undefined;
  if (!/^[\w-]{16,}$/.test(salt) || !/^[\w-]{22,}$/.test(hash)) return undefined;
  return { ...params, salt: Buffer.from(salt, "base64url"), hash: Buffer.from(hash, "base64url") };
}

/** scrypt password hash, self-describing: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string, N = passwordHashCost()): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, { N, r: R, p: P }, KEYLEN);
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Checks a password against a stored hash with the hash's own parameters; false for anything malformed. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parse(stored);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h, h.hash.length);
  return timingSafeEqual(key, h.hash);
}

/**
 * Whether a stored hash is weaker than what new hashes get (a lower N, other r or p, another
 * format): login re-hashes such a password once it has checked it (password-upgrade.ts).
 */
export function needsRehash(stored: string, N = passwordHashCost()): boolean {
  const h = parse(stored);
  return !h || h.N < N || h.r !== R || h.p !== P || h.hash.length !== KEYLEN;
}

/**
 * A hash to compare against when the user does not exist, so that a login for an unknown
 * email costs the same time as one for a known email: it has today's cost.
 */
export const dummyPasswordHash = (): string =>
  `scrypt$${passwordHashCost()}$${R}$${P}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;

export const sha256Hex = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Constant-time string equality (length is not secret here: it is fixed by the format). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
