import { randomBytes, randomInt, randomUUID } from "node:crypto";

const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Unbiased random string over an alphabet (rejection sampling via randomInt). */
export function randomString(length: number, alphabet = LOWER_ALNUM): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Internal primary keys. */
export const newId = (): string => randomUUID();

/** The spec's `order_no`: 12 lower-case alphanumerics, ~62 bits, unguessable. */
export const newOrderNo = (): string => randomString(12);

/** The spec's `user_id` for clients: 8 lower-case alphanumerics. */
export const newClientId = (): string => randomString(8);

/** `merchant_id` (ours): 32 lower-case hex characters. */
export const newMerchantId = (): string => randomBytes(16).toString("hex");

/** The integration token: 256 bits, URL-safe. */
export const newIntegrationToken = (): string => randomBytes(32).toString("base64url");
