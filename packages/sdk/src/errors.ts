/** Codes of {@link SdkError}. */
export type SdkErrorCode =
  /** The options given to `createApi1Handler` are unusable (no token, a bad parameter config…). */
  | "invalid_config"
  /** A callback that cannot be sent: a missing field, an amount that is not decimal text… */
  | "invalid_callback"
  /** The callback URL is not an absolute `http:` or `https:` URL. */
  | "invalid_url"
  /** A framework handed the API-1 handler an already parsed body: the raw text is needed. */
  | "raw_body_required"
  /** `oncePerPayout`: a payout_no came again with another amount or currency than it first had. */
  | "payout_conflict"
  | WebhookVerificationCode;

/** Codes of {@link WebhookVerificationError}: why `verifyWebhook` refused a request. */
export type WebhookVerificationCode =
  /** `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent, empty or repeated. */
  | "missing_header"
  /** `webhook-timestamp` is not whole Unix seconds. */
  | "bad_timestamp"
  /** Signed longer ago than the tolerance: a replay, or a clock far behind. */
  | "too_old"
  /** Signed further in the future than the tolerance: a clock far ahead. */
  | "too_new"
  /** No `v1` signature in the header matches any of the secrets. */
  | "no_matching_signature"
  /** Signed correctly, but the body is not `{type, timestamp, data}` JSON. */
  | "bad_payload"
  /** A secret given to `verifyWebhook` is not `whsec_<base64 of 24–64 bytes>` (a configuration mistake: thrown). */
  | "bad_secret";

/**
 * The error this package throws for programming and configuration mistakes. Everything that
 * depends on the other side (a bad request, a CRM answer, a network failure) is a typed result,
 * never a throw.
 */
export class SdkError extends Error {
  override readonly name: string = "SdkError";
  readonly code: SdkErrorCode;

  constructor(code: SdkErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Why a webhook did not verify. `verifyWebhook` returns it in its result for everything the
 * request got wrong, and throws it only for `bad_secret`, which is the receiver's own mistake.
 */
export class WebhookVerificationError extends SdkError {
  override readonly name: string = "WebhookVerificationError";
  declare readonly code: WebhookVerificationCode;

  constructor(code: WebhookVerificationCode, message: string) {
    super(code, message);
  }
}
