import { ProtocolError } from "./errors.js";

// Standard Webhooks signing (docs/webhooks.md, docs/psp-open-api.md#outbound-webhooks). HMAC runs
// on WebCrypto (`globalThis.crypto.subtle`), which Node 20+ and every browser have, so this
// package keeps no dependency and no `node:` import; WebCrypto is asynchronous, hence the promises.

/** The three headers of a webhook request. */
export const WEBHOOK_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
} as const;

/** The prefix of a webhook secret. */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** The only signature version this package signs and accepts: HMAC-SHA256. */
export const WEBHOOK_SIGNATURE_VERSION = "v1";

const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** What gets signed: the message id, its Unix-seconds timestamp and the raw body. */
export interface WebhookMessage {
  readonly id: string;
  readonly timestamp: number;
  /** The body exactly as sent: text (signed as UTF-8) or its bytes. */
  readonly body: string | Uint8Array;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Strict base64 (standard alphabet, padded, canonical) to bytes, or `null`. */
function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | null {
  if (!BASE64.test(text)) return null;
  const binary = atob(text);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // Non-zero padding bits decode too; a re-encoding that differs means a non-canonical text.
  return bytesToBase64(bytes) === text ? bytes : null;
}

/**
 * The key bytes of `whsec_<base64>`. Throws {@link ProtocolError} `webhook_secret_invalid` (never
 * quoting the secret) for a missing prefix, bad base64, or a key outside 24–64 bytes.
 */
export function parseWebhookSecret(secret: string): Uint8Array<ArrayBuffer> {
  const fail = (why: string) =>
    new ProtocolError(
      "webhook_secret_invalid",
      `the webhook secret ${why} (expected whsec_<base64 of 24–64 bytes>)`,
    );
  if (typeof secret !== "string" || !secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    throw fail("does not start with whsec_");
  }
  const key = base64ToBytes(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  if (key === null) throw fail("is not canonical padded base64 after whsec_");
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw fail(`holds ${key.length} bytes`);
  }
  return key;
}

/** A new random secret, `whsec_` and the base64 of 32 bytes (HMAC-SHA256's own key size). */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
}

const encoder = new TextEncoder();

/** `{id}.{timestamp}.{body}` as bytes: a byte body is signed as is, never decoded and re-encoded. */
function signedContent(message: WebhookMessage): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(`${message.id}.${message.timestamp}.`);
  const body = typeof message.body === "string" ? encoder.encode(message.body) : message.body;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function assertMessage(message: WebhookMessage): void {
  if (typeof message.id !== "string" || message.id === "" || /[\s,]/.test(message.id)) {
    throw new ProtocolError(
      "invalid_value",
      "the webhook id must be a non-empty string without spaces or commas",
    );
  }
  if (!Number.isSafeInteger(message.timestamp) || message.timestamp < 0) {
    throw new ProtocolError("invalid_value", "the webhook timestamp must be whole Unix seconds");
  }
}

/**
 * The base64 HMAC-SHA256 of `message` under each secret, in the order given (without `v1,`).
 * A verifier compares the header's candidates against these.
 */
export async function webhookSignatures(
  message: WebhookMessage,
  secrets: string | readonly string[],
): Promise<string[]> {
  assertMessage(message);
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  const keys = list.map(parseWebhookSecret);
  const content = signedContent(message);
  return Promise.all(
    keys.map(async (raw) => {
      const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
      return bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, content)));
    }),
  );
}

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
 * per secret, space-separated (two while a secret rotates). Throws {@link ProtocolError} for a
 * malformed secret, id or timestamp, or when no secret is given.
 */
export async function signWebhook(
  message: WebhookMessage,
  secrets: string | readonly string[],
): Promise<string> {
  if (typeof secrets !== "string" && secrets.length === 0) {
    throw new ProtocolError("webhook_secret_invalid", "at least one webhook secret is needed to sign");
  }
  const signatures = await webhookSignatures(message, secrets);
  return signatures.map((s) => `${WEBHOOK_SIGNATURE_VERSION},${s}`).join(" ");
}
