import { sign } from "./signature.js";

/**
 * API-3, the status query (docs/psp-open-api.md#api-3-status-query): the CRM asks the tenant
 * backend where an order stands, and the answer's `data` is an API-2 callback body, signed as
 * one, that the CRM judges exactly like a callback.
 */

/** Appended to the integration's APP_URL, like API-1's `/pay`. */
export const STATUS_QUERY_PATH = "/pay/status";

/** `data.code` of an answer whose backend does not know the order. */
export const ORDER_NOT_FOUND = "order_not_found";

/** The CRM's request body: `time` in Unix milliseconds, `sign` over the other three. */
export interface StatusQueryBody {
  merchant_id: string;
  order_no: string;
  time: number;
  sign: string;
}

/** The signed request body of a status query for `orderNo`, at `time` (Unix ms). */
export function signStatusQuery(
  q: { merchantId: string; orderNo: string; time: number },
  token: string,
): StatusQueryBody {
  const params = { merchant_id: q.merchantId, order_no: q.orderNo, time: q.time };
  return { ...params, sign: sign(params, token) };
}

/** What a status query's HTTP 200 body says. */
export type StatusAnswer =
  /** `result: true`: `dataText` is the raw JSON text of `data`, an API-2 body to verify and judge. */
  | { kind: "found"; dataText: string }
  /** `result: false`, `data.code: "order_not_found"` (`"payout_not_found"` for a payout). */
  | { kind: "not_found"; msg: string }
  /** Anything else: a failed query, which changes nothing. */
  | { kind: "invalid"; reason: string };

/**
 * Reads a status query's answer. `data` is returned as its raw text, not re-serialised, so a
 * number keeps the literal text its signature was computed over (`100.10`).
 */
export function parseStatusAnswer(text: string, notFoundCode: string = ORDER_NOT_FOUND): StatusAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "the answer is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { kind: "invalid", reason: "the answer is not a JSON object" };
  }
  const members = topLevelMembers(text);
  if (members === null) return { kind: "invalid", reason: "the answer repeats a key" };
  const answer = parsed as Record<string, unknown>;
  const data = answer.data;
  const msg = typeof answer.msg === "string" ? answer.msg : "";
  if (answer.result === true) {
    const dataText = members.get("data");
    if (typeof data !== "object" || data === null || Array.isArray(data) || dataText === undefined) {
      return { kind: "invalid", reason: "result is true but data is not an object" };
    }
    return { kind: "found", dataText };
  }
  if (answer.result === false) {
    const code =
      typeof data === "object" && data !== null ? (data as Record<string, unknown>).code : undefined;
    if (code === notFoundCode) return { kind: "not_found", msg };
    return { kind: "invalid", reason: `result is false${msg ? `: ${msg.slice(0, 200)}` : ""}` };
  }
  return { kind: "invalid", reason: "result is neither true nor false" };
}

/**
 * The raw text of each member of a top-level JSON object, by key; null when a key repeats
 * (JSON.parse would silently keep the last one). `text` must already have parsed as an object.
 */
function topLevelMembers(text: string): Map<string, string> | null {
  const members = new Map<string, string>();
  let i = text.indexOf("{") + 1;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  const endOfString = (from: number) => {
    let j = from + 1;
    while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  for (;;) {
    skipSpace();
    if (text[i] === "}") return members;
    if (text[i] === ",") {
      i++;
      skipSpace();
    }
    const keyEnd = endOfString(i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    skipSpace();
    i++; // the colon
    skipSpace();
    const start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i = endOfString(i);
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        if (depth === 0) break;
        depth--;
      } else if (c === "," && depth === 0) break;
      i++;
    }
    if (members.has(key)) return null;
    members.set(key, text.slice(start, i).trimEnd());
  }
}
