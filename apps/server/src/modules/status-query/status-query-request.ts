import { parseStatusAnswer, STATUS_QUERY_PATH, type StatusAnswer } from "@psphub/protocol";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";

/**
 * API-3 on the CRM side, pure (docs/psp-open-api.md#api-3-status-query): the URL, and the
 * reading of the guarded client's result into a typed answer.
 */

/**
 * `{APP_URL}/pay/status` (or another of the backend's paths: `/payout/request`…), whether or not
 * APP_URL ends with `/` (a path prefix is kept).
 */
export function statusQueryUrl(appUrl: string, path: string = STATUS_QUERY_PATH): string {
  const u = new URL(appUrl);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
  u.search = "";
  u.hash = "";
  return u.href;
}

/** What a query brought back, before the `found` data is judged as an API-2 body. */
export type QueryAnswer =
  | { kind: "found"; dataText: string; httpStatus: number }
  /** The backend does not know the order; `bodyText` is kept in the callback log. */
  | { kind: "not_found"; httpStatus: number; bodyText: string }
  /**
   * No usable answer: `timeout`, `connect_failed: …`, `blocked_address: …`, `too_large`,
   * `http_status_<n>` or `invalid_answer: <why>`. `bodyText` when the backend did answer.
   */
  | { kind: "failed"; reason: string; httpStatus: number | null; bodyText: string | null };

const REASON_MAX = 300;
const clip = (s: string) => (s.length <= REASON_MAX ? s : `${s.slice(0, REASON_MAX - 1)}…`);

export function interpretStatusResponse(
  res: GuardedResponse,
  /** The payout twin reads `payout_not_found` (parsePayoutStatusAnswer). */
  parse: (text: string) => StatusAnswer = parseStatusAnswer,
): QueryAnswer {
  if (!res.ok) {
    const reason =
      res.reason === "timeout" || res.reason === "too_large"
        ? res.reason
        : res.reason === "blocked_address"
          ? `blocked_address: ${res.detail}`
          : `connect_failed: ${res.reason}`;
    return { kind: "failed", reason: clip(reason), httpStatus: null, bodyText: null };
  }
  if (res.status < 200 || res.status > 299)
    return {
      kind: "failed",
      reason: `http_status_${res.status}`,
      httpStatus: res.status,
      bodyText: res.bodyText,
    };
  const answer = parse(res.bodyText);
  switch (answer.kind) {
    case "found":
      return { kind: "found", dataText: answer.dataText, httpStatus: res.status };
    case "not_found":
      return { kind: "not_found", httpStatus: res.status, bodyText: res.bodyText };
    default:
      return {
        kind: "failed",
        reason: clip(`invalid_answer: ${answer.reason}`),
        httpStatus: res.status,
        bodyText: res.bodyText,
      };
  }
}
