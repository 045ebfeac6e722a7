import { type FlatParams, formatAmountNumber, parseApi1Response, SIGN_KEY, sign } from "@psphub/protocol";
import { type Api1ParamConfig, toConfiguredKeys } from "@psphub/protocol/admin";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";

/**
 * API-1 on the CRM side, pure (docs/psp-open-api.md#api-1): the URL, the signed JSON body
 * under the integration's configured keys, and the reading of the tenant's answer into a
 * payment URL or a failure reason for admins plus a short message for the client.
 */

const api1Urls = new Map<string, string>();
const API1_URLS_MAX = 1_000;

/** `{APP_URL}/pay/url`, whether or not APP_URL ends with `/` (a path prefix is kept). */
export function api1Url(appUrl: string): string {
  // A pure function of the text, called on every deposit: kept for the few APP_URLs in use.
  const kept = api1Urls.get(appUrl);
  if (kept !== undefined) return kept;
  const u = new URL(appUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/pay/url`;
  u.search = "";
  u.hash = "";
  if (api1Urls.size >= API1_URLS_MAX) api1Urls.clear();
  api1Urls.set(appUrl, u.href);
  return u.href;
}

export type Api1Order = {
  merchantId: string;
  orderNo: string;
  amountMinor: bigint;
  decimals: number;
  currency: string;
  userId: string;
  userName: string | null;
  email: string | null;
  phone: string | null;
  nationality: string | null;
  language: string | null;
  device: string | null;
  /** The client's deposit field values by custom key. */
  custom: Readonly<Record<string, string>>;
};

export type Api1Request = {
  /** The exact JSON text sent. */
  bodyText: string;
  /** The same body as an object (amount as a number), `sign` included; never the token. */
  sent: Record<string, string | number>;
};

const opt = (v: string | null | undefined): string | undefined =>
  v === null || v === undefined || v.trim() === "" ? undefined : v;
const lower = (v: string | null | undefined): string | undefined => opt(v)?.toLowerCase();

/**
 * The API-1 body: standard parameters under their configured keys (disabled ones left out),
 * custom values under their own keys, and `sign` over exactly those values. The amount is the
 * JSON number literal `formatAmountNumber` gives (`100.1` for 100.10 USD); the JSON text is
 * written here so that literal is exactly what goes on the wire and what was signed.
 * Throws ProtocolError `duplicate_key` when the configuration maps two values to one key.
 */
export function buildApi1Request(order: Api1Order, config: Api1ParamConfig, token: string): Api1Request {
  const amountLiteral = formatAmountNumber(order.amountMinor, order.decimals);
  const custom: Record<string, string> = {};
  for (const [k, v] of Object.entries(order.custom)) if (opt(v) !== undefined) custom[k] = v;
  const params: FlatParams = toConfiguredKeys(
    {
      named: {
        merchant_id: order.merchantId,
        order_no: order.orderNo,
        amount: Number(amountLiteral),
        currency: order.currency.toUpperCase(),
        user_id: order.userId,
        user_name: opt(order.userName),
        email: opt(order.email),
        phone: opt(order.phone),
        nationality: lower(order.nationality),
        language: lower(order.language),
        device: opt(order.device),
      },
      custom,
    },
    config,
  );
  const amountKey = config.amount.key;
  const signature = sign(params, token, { literals: { [amountKey]: amountLiteral } });
  const parts: string[] = [];
  const sent: Record<string, string | number> = {};
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (value === undefined || value === null) continue;
    const text = key === amountKey ? amountLiteral : JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${text}`);
    sent[key] = value as string | number;
  }
  parts.push(`${JSON.stringify(SIGN_KEY)}:${JSON.stringify(signature)}`);
  sent[SIGN_KEY] = signature;
  return { bodyText: `{${parts.join(",")}}`, sent };
}

export const PROVIDER_UNAVAILABLE_MESSAGE = "The payment provider is unavailable, try again later";
const REASON_MAX = 500;

export type Api1Outcome =
  | { ok: true; paymentUrl: string }
  | {
      ok: false;
      /** For admins: a stable code, then `: detail` where there is one (`result_false: Card declined`). */
      reason: string;
      /**
       * Kept as `failure_message`: the tenant's `msg` of a proper refusal (2xx, `result: false`),
       * else {@link PROVIDER_UNAVAILABLE_MESSAGE}.
       */
      clientMessage: string;
      /** Whether the tenant itself said no properly (with a message), rather than being unreachable or broken. */
      declined: boolean;
    };

const clip = (s: string) => (s.length <= REASON_MAX ? s : `${s.slice(0, REASON_MAX - 1)}…`);

function failure(reason: string, tenantMsg?: string): Api1Outcome {
  return {
    ok: false,
    reason: clip(reason),
    clientMessage: tenantMsg ?? PROVIDER_UNAVAILABLE_MESSAGE,
    declined: tenantMsg !== undefined,
  };
}

/** The tenant's `msg` of a JSON answer that is not a success, cleaned by the protocol package. */
function tenantMessage(json: unknown): string | undefined {
  const r = parseApi1Response(json, { allowHttp: false });
  return !r.ok && r.reason === "result_not_true" ? r.msg : undefined;
}

/**
 * Reads the guarded client's result (docs/psp-open-api.md#api-1-outcomes): a timeout, a network error, a
 * non-2xx answer (a 3xx included: redirects are not followed), a body that is not JSON,
 * `result` not `true`, or a missing/invalid/unsafe URL all fail the order.
 */
export function interpretApi1Answer(res: GuardedResponse, opts: { allowHttp: boolean }): Api1Outcome {
  if (!res.ok) {
    const withDetail =
      res.reason === "blocked_address" || res.reason === "dns_failure" || res.reason === "network_error";
    return failure(withDetail ? `${res.reason}: ${res.detail}` : res.reason);
  }
  let json: unknown;
  let isJson = true;
  try {
    json = JSON.parse(res.bodyText);
  } catch {
    isJson = false;
  }
  if (res.status < 200 || res.status > 299) {
    // A non-2xx answer's `msg` is often the backend's own error ("invalid crm-pay-token"): admins
    // read it, the client never does (docs/psp-open-api.md#client-failures).
    const msg = isJson ? tenantMessage(json) : undefined;
    return failure(msg === undefined ? `http_status_${res.status}` : `http_status_${res.status}: ${msg}`);
  }
  if (!isJson) return failure("bad_json");
  const r = parseApi1Response(json, opts);
  if (r.ok) return { ok: true, paymentUrl: r.url };
  switch (r.reason) {
    case "result_not_true":
      return r.msg === undefined ? failure("result_false") : failure(`result_false: ${r.msg}`, r.msg);
    case "not_object":
      return failure("bad_json: not an object");
    default:
      // missing_url, bad_url, insecure_url
      return failure(r.reason);
  }
}

/** Truncates a response body for the api1_call event (4 KiB of text). */
export function truncateBody(text: string, max = 4096): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated ${text.length - max} chars]`;
}
