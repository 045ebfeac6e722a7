import {
  constantTimeEquals,
  type FlatParams,
  ProtocolError,
  parseFlatJson,
  verifyDetailed,
} from "@psphub/protocol";
import { SdkError } from "./errors.js";

// The checks every request from the CRM goes through, whichever API it is (API-1, API-3): body
// size and encoding, one flat JSON object, the token header and the sign over the raw body.

/** The header that carries the integration's token on every API (docs/psp-open-api.md#token). */
export const TOKEN_HEADER = "crm-pay-token";
/** The header psphub certify's API-1 requests carry (docs/certify.md#test-orders). */
export const TEST_ORDER_HEADER = "x-psphub-test";

/** Request headers: Node's `req.headers`, a plain object, or a fetch `Headers`. */
export type HeaderBag =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

/** What the framework-free handlers need from a request. */
export interface HandlerInput {
  readonly headers: HeaderBag;
  /** The body exactly as received: the signature is checked over it, never over re-serialised JSON. */
  readonly rawBody: string | Uint8Array | undefined;
}

/** What to send back. `body` is JSON text. */
export interface HandlerOutput {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * A framework-free handler of requests from the CRM (the API-1 and the status query handlers);
 * the adapters wrap it for node:http, Express, Fastify and fetch.
 */
export interface RequestHandler {
  handle(input: HandlerInput): Promise<HandlerOutput>;
  readonly maxBodyBytes: number;
  /** The 413 answer, for adapters that refuse a body before reading it. */
  tooLarge(): HandlerOutput;
  /** The handler's failure envelope, for adapters' own errors. */
  failure(status: number, msg: string): HandlerOutput;
  /** Where it is mounted by default (`/pay/url`, `/pay/status`). */
  readonly path?: string;
}

/**
 * Tokens accepted, current first, or a function asked per request with the body's `merchant_id`
 * (one backend serving several integrations) that answers `[]` for an unknown merchant.
 */
export type TokenSource =
  | readonly string[]
  | ((merchantId: string | undefined) => readonly string[] | Promise<readonly string[]>);

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
};

/** The one header value, or undefined when absent or given more than once. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    const value = (headers as { get(name: string): string | null }).get(name);
    // fetch's Headers joins repeats with ", ": a token never contains one.
    return value === null || value.includes(", ") ? undefined : value;
  }
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  let found: string | undefined;
  let count = 0;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== "string") return undefined;
    found = value;
    count++;
  }
  return count === 1 ? found : undefined;
}

/** The token source of a handler's options (`token`, or `tokens`); throws `invalid_config`. */
export function tokenSource(options: {
  readonly token?: string;
  readonly tokens?: TokenSource;
}): TokenSource {
  const source = options.tokens ?? (options.token === undefined ? undefined : [options.token]);
  if (source === undefined) throw new SdkError("invalid_config", "give token or tokens");
  if (typeof source !== "function") {
    if (source.length === 0 || source.some((t) => typeof t !== "string" || t === "")) {
      throw new SdkError("invalid_config", "tokens must be non-empty strings, at least one");
    }
  }
  return source;
}

/** The tokens accepted for a request naming `merchantId`. */
export async function tokensFor(
  source: TokenSource,
  merchantId: string | undefined,
): Promise<readonly string[]> {
  if (typeof source !== "function") return source as readonly string[];
  const list = await source(merchantId);
  return Array.isArray(list) ? list.filter((t) => typeof t === "string" && t !== "") : [];
}

/** A positive integer option, or its default; throws `invalid_config`. */
export function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new SdkError("invalid_config", `${name} must be a positive integer`);
  }
  return v;
}

/** Why a request was refused. Each handler's public rejection type is a subset of this. */
export interface CheckRejection {
  readonly status: 400 | 401 | 413;
  readonly reason:
    | "too_large"
    | "bad_encoding"
    | "malformed_body"
    | "token_invalid"
    | "sign_invalid"
    | "missing_field"
    | "bad_field"
    | "stale_time";
  readonly message: string;
  /**
   * For `sign_invalid`: the StringA this side computed (literal number text), and the variant
   * over parsed numbers when it differs. Compare them with the signer's. Never holds the token.
   */
  readonly stringA?: string;
  readonly stringAParsed?: string;
}

/**
 * Short messages for the CRM (it may show an API-1 `msg` to the client): no detail a forger could
 * use. `onReject` gets the detail.
 */
export const PUBLIC_MESSAGE: Readonly<Record<CheckRejection["reason"], string>> = {
  too_large: "request too large",
  bad_encoding: "malformed request body",
  malformed_body: "malformed request body",
  token_invalid: "invalid crm-pay-token",
  sign_invalid: "invalid sign",
  missing_field: "missing parameter",
  bad_field: "invalid parameter",
  stale_time: "time is too far from now",
};

/** Thrown by the checks; a handler turns it into its failure answer. */
export class Reject extends Error {
  constructor(readonly rejection: CheckRejection) {
    super(rejection.message);
  }
}

export const reject = (
  status: CheckRejection["status"],
  reason: CheckRejection["reason"],
  message: string,
): Reject => new Reject({ status, reason, message });

const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 length of a string without encoding it (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Size (413), UTF-8 (400) and one flat JSON object (400), with each number's literal text. */
export function readFlatBody(
  raw: string | Uint8Array | undefined,
  maxBodyBytes: number,
): { params: FlatParams; literals: Record<string, string> } {
  const body = raw ?? "";
  let text: string;
  if (typeof body === "string") {
    if (utf8Length(body) > maxBodyBytes)
      throw reject(413, "too_large", `the body exceeds ${maxBodyBytes} bytes`);
    text = body;
  } else {
    if (body.byteLength > maxBodyBytes) {
      throw reject(413, "too_large", `the body exceeds ${maxBodyBytes} bytes`);
    }
    try {
      text = decoder.decode(body);
    } catch {
      throw reject(400, "bad_encoding", "the body is not valid UTF-8");
    }
  }
  try {
    return parseFlatJson(text);
  } catch (error) {
    if (error instanceof ProtocolError) throw reject(400, "malformed_body", error.message);
    throw error;
  }
}

/**
 * The token header against every accepted token, in constant time and without short-circuit
 * (401), then `sign` over the raw body with the token that matched: the literal number text or
 * `String(number)` (401). Answers the matching token's index (0 the current one).
 */
export function checkTokenAndSign(
  headers: HeaderBag,
  tokens: readonly string[],
  params: FlatParams,
  literals: Record<string, string>,
): number {
  const provided = headerValue(headers, TOKEN_HEADER);
  let tokenIndex = -1;
  tokens.forEach((token, index) => {
    const equal = constantTimeEquals(provided ?? "", token);
    if (equal && tokenIndex === -1) tokenIndex = index;
  });
  if (provided === undefined || tokenIndex === -1) {
    throw reject(
      401,
      "token_invalid",
      provided === undefined
        ? `the ${TOKEN_HEADER} header is missing`
        : `the ${TOKEN_HEADER} header is wrong`,
    );
  }
  const verdict = verifyDetailed(params, tokens[tokenIndex]!, undefined, { literals });
  if (!verdict.valid) {
    throw new Reject({
      status: 401,
      reason: "sign_invalid",
      message: `sign does not verify (${verdict.reason ?? "mismatch"})`,
      stringA: verdict.stringA,
      ...(verdict.stringAParsed === undefined ? {} : { stringAParsed: verdict.stringAParsed }),
    });
  }
  return tokenIndex;
}
