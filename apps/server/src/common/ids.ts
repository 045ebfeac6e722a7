import { randomBytes, randomInt } from "node:crypto";

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Unbiased random string over an alphabet (rejection sampling via randomInt). */
export function randomString(length: number, alphabet = LOWER_ALNUM): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

let lastMs = 0;
let seq = 0;
/** Random bytes drawn 4 KiB at a time: one `randomBytes(16)` per id was a visible cost (bench B1). */
let pool = Buffer.alloc(0);
let poolAt = 0;

/**
 * Internal primary keys: UUIDv7 (48-bit wall-clock ms, a 12-bit sequence, 62 random bits), so
 * ids sort in creation order within a process. New rows then land at the right-hand edge of
 * each primary-key index instead of on a random page: fewer pages touched and written per
 * commit on both databases (bench B1: callback logs, ledger entries and events are written
 * at thousands per second). The random part keeps them unguessable; access never relies on an
 * id being secret (every query is scoped by tenant).
 */
export function newId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    ms = lastMs;
    seq++;
    if (seq > 0xfff) {
      ms = ++lastMs;
      seq = 0;
    }
  } else {
    seq = 0;
  }
  lastMs = ms;
  if (poolAt + 16 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const b = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The API-1 `order_no` (docs/psp-open-api.md#api-1-parameters): 12 lower-case alphanumerics, ~62 bits. */
export const newOrderNo = (): string => randomString(12);

/** The API-1 `user_id` of clients (docs/psp-open-api.md#api-1-parameters): 8 lower-case alphanumerics. */
export const newClientId = (): string => randomString(8);

/** `merchant_id` (ours): 32 lower-case hex characters. */
export const newMerchantId = (): string => randomBytes(16).toString("hex");

/** The integration token: 256 bits, URL-safe. */
export const newIntegrationToken = (): string => randomBytes(32).toString("base64url");
