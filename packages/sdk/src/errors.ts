/** Codes of {@link SdkError}. */
export type SdkErrorCode =
  /** The options given to `createApi1Handler` are unusable (no token, a bad parameter config…). */
  | "invalid_config"
  /** A callback that cannot be sent: a missing field, an amount that is not decimal text… */
  | "invalid_callback"
  /** The callback URL is not an absolute `http:` or `https:` URL. */
  | "invalid_url"
  /** A framework handed the API-1 handler an already parsed body: the raw text is needed. */
  | "raw_body_required";

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
