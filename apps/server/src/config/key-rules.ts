/**
 * The rules for ENCRYPTION_KEY, kept apart from config.ts so they can be
 * tested on their own. A key is 32 random bytes written in canonical base64, as
 * `openssl rand -base64 32` prints them.
 */

const KEY_BYTES = 32;
/** 43 alphabet characters and one `=`: the only canonical base64 of 32 bytes. */
const CANONICAL = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Fewer distinct byte values than this is refused. 32 random bytes hold about 30 distinct
 * values; fewer than 16 happens by chance far less often than once in 2^100 keys.
 */
export const MIN_DISTINCT_KEY_BYTES = 16;

/**
 * Decodes a key strictly: Buffer.from(…, "base64") skips characters outside the alphabet and
 * spare bits, so a mistyped key would still decode to some 32 bytes.
 */
export function decodeKey(text: string): { key: Buffer } | { problem: string } {
  if (!CANONICAL.test(text))
    return { problem: "must be 32 bytes in base64 (44 characters A-Z a-z 0-9 + / ending in =)" };
  const key = Buffer.from(text, "base64");
  if (key.length !== KEY_BYTES || key.toString("base64") !== text)
    return { problem: "must be 32 bytes in canonical base64" };
  return { key };
}

/**
 * Why a 32-byte key is not random enough, or null. The rule: at least
 * {@link MIN_DISTINCT_KEY_BYTES} distinct byte values, and not bytes in a constant step
 * (0, 1, 2, …). Both catch hand-made keys (all zeros, one repeated byte, a short word repeated,
 * a counter) and let random keys through.
 */
export function weakKeyProblem(key: Buffer): string | null {
  const distinct = new Set(key).size;
  if (distinct < MIN_DISTINCT_KEY_BYTES)
    return `has only ${distinct} distinct byte values (at least ${MIN_DISTINCT_KEY_BYTES}): use 32 random bytes (openssl rand -base64 32)`;
  const step = (key[1]! - key[0]! + 256) % 256;
  if (key.every((b, i) => i === 0 || (b - key[i - 1]! + 256) % 256 === step))
    return "is bytes in a constant step, not random: use 32 random bytes (openssl rand -base64 32)";
  return null;
}
