import {
  constantTimeEquals,
  ProtocolError,
  parseWebhookSecret,
  WEBHOOK_HEADERS,
  WEBHOOK_SIGNATURE_VERSION,
  webhookSignatures,
} from "@psphub/protocol";
import { SdkError, type WebhookVerificationCode, WebhookVerificationError } from "./errors.js";
import { type HeaderBag, headerValue } from "./request-checks.js";

// A tenant's receiver of the CRM's outbound webhooks (Standard Webhooks; docs/webhooks.md).

/** The default tolerance between `webhook-timestamp` and the receiver's clock, either way. */
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in the past or the future (default 300). */
  readonly toleranceSeconds?: number;
  /** The clock, in Unix milliseconds (default `Date.now`). */
  readonly now?: () => number;
}

/** A webhook whose signature checked out, its body parsed. */
export interface VerifiedWebhook {
  /** `webhook-id`: the same on every retry of one event, so deduplicate on it. */
  readonly id: string;
  /** `webhook-timestamp`: when this attempt was signed, Unix seconds. */
  readonly timestamp: number;
  /** The event type, e.g. `deposit.succeeded`. */
  readonly type: string;
  /** When the event happened (the body's `timestamp`, ISO 8601). */
  readonly eventTimestamp: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** The body as text, exactly as received. */
  readonly body: string;
}

/** The outcome of {@link verifyWebhook}: the webhook, or why it was refused. */
export type VerifyWebhookResult =
  | { readonly ok: true; readonly webhook: VerifiedWebhook }
  | { readonly ok: false; readonly error: WebhookVerificationError };

const TIMESTAMP = /^[0-9]{1,15}$/;

const refuse = (code: WebhookVerificationCode, message: string): VerifyWebhookResult => ({
  ok: false,
  error: new WebhookVerificationError(code, message),
});

function checkSecrets(secrets: string | readonly string[]): readonly string[] {
  const list = typeof secrets === "string" ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) {
    throw new WebhookVerificationError("bad_secret", "verifyWebhook needs at least one whsec_ secret");
  }
  for (const secret of list) {
    try {
      parseWebhookSecret(secret);
    } catch (error) {
      if (error instanceof ProtocolError) throw new WebhookVerificationError("bad_secret", error.message);
      throw error;
    }
  }
  return list;
}

/** The base64 of every `v1` entry of the header; other versions (`v1a`…) are not ours to check. */
function v1Candidates(header: string): string[] {
  const prefix = `${WEBHOOK_SIGNATURE_VERSION},`;
  return header
    .split(" ")
    .filter((entry) => entry.startsWith(prefix))
    .map((entry) => entry.slice(prefix.length));
}

function parsePayload(text: string): Omit<VerifiedWebhook, "id" | "timestamp" | "body"> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { type, timestamp, data } = value as Record<string, unknown>;
  if (typeof type !== "string" || type === "" || typeof timestamp !== "string") return undefined;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return undefined;
  return { type, eventTimestamp: timestamp, data: data as Record<string, unknown> };
}

/**
 * Verifies a webhook from the CRM (Standard Webhooks): the three `webhook-*` headers, the
 * timestamp within `toleranceSeconds` of now either way, and at least one `v1` signature of the
 * header equal to the HMAC under one of `secrets` (several during a rotation). Every candidate is
 * compared with every secret's signature in constant time; none short-circuits another. Only
 * then is the body parsed to `{type, timestamp, data}`.
 *
 * `headers`: a plain object (any case) or a fetch `Headers`. `rawBody`: the body exactly as
 * received, text or bytes; never re-serialised JSON.
 *
 * Returns a typed result for everything the request got wrong; throws
 * {@link WebhookVerificationError} `bad_secret` for a malformed secret and {@link SdkError}
 * `invalid_config` for a bad tolerance, both the receiver's own mistakes.
 */
export async function verifyWebhook(
  headers: HeaderBag,
  rawBody: string | Uint8Array,
  secrets: string | readonly string[],
  options: VerifyWebhookOptions = {},
): Promise<VerifyWebhookResult> {
  const list = checkSecrets(secrets);
  const tolerance = options.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new SdkError("invalid_config", "toleranceSeconds must be a finite number of seconds, 0 or more");
  }

  const id = headerValue(headers, WEBHOOK_HEADERS.id);
  const timestampText = headerValue(headers, WEBHOOK_HEADERS.timestamp);
  const signature = headerValue(headers, WEBHOOK_HEADERS.signature);
  for (const [name, value] of [
    [WEBHOOK_HEADERS.id, id],
    [WEBHOOK_HEADERS.timestamp, timestampText],
    [WEBHOOK_HEADERS.signature, signature],
  ] as const) {
    if (value === undefined || value === "") return refuse("missing_header", `the ${name} header is missing`);
  }
  if (!TIMESTAMP.test(timestampText!)) {
    return refuse("bad_timestamp", "the webhook-timestamp header is not whole Unix seconds");
  }
  const timestamp = Number(timestampText);
  const now = (options.now ?? Date.now)() / 1000;
  if (timestamp < now - tolerance) {
    return refuse("too_old", `the webhook was signed more than ${tolerance} s ago`);
  }
  if (timestamp > now + tolerance) {
    return refuse("too_new", `the webhook is signed more than ${tolerance} s in the future`);
  }

  let expected: string[];
  try {
    expected = await webhookSignatures({ id: id!, timestamp, body: rawBody }, list);
  } catch (error) {
    // An id we could never have signed (a space or a comma in it): nothing can match.
    if (error instanceof ProtocolError && error.code === "invalid_value") expected = [];
    else throw error;
  }
  let matched = false;
  for (const candidate of v1Candidates(signature!)) {
    for (const mine of expected) matched = constantTimeEquals(candidate, mine) || matched;
  }
  if (!matched) {
    return refuse(
      "no_matching_signature",
      "no v1 signature of the webhook-signature header matches a secret",
    );
  }

  let body: string;
  try {
    body = typeof rawBody === "string" ? rawBody : new TextDecoder("utf-8", { fatal: true }).decode(rawBody);
  } catch {
    return refuse("bad_payload", "the body is not UTF-8");
  }
  const payload = parsePayload(body);
  if (payload === undefined) {
    return refuse("bad_payload", "the body is not a JSON object {type, timestamp, data}");
  }
  return { ok: true, webhook: { id: id!, timestamp, ...payload, body } };
}
