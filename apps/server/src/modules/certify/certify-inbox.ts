import {
  type CallbackErrorType,
  callbackErrorBody,
  type FlatParams,
  formatAmount,
  parseFlatJson,
  parseFormBody,
  tryParseAmount,
} from "@psphub/protocol";
import { isFormBody } from "../callbacks/callback-body.js";

/**
 * Where `psphub certify` receives the backend's API-2 callbacks for its test orders, playing the
 * CRM (docs/certify.md#callbacks). Two stores share the answers decided here: the command line's
 * own listener (certify-crm-emulator.ts) and, for a run from the back office, the database (the
 * backend's callbacks then arrive at the real CRM_Callback_URL). Each test order has a script:
 * how the suite answers its callbacks, so that a backend's retries can be seen.
 */

/** How the suite answers one test order's callbacks. */
export type CallbackScript =
  /** Every callback: 204. */
  | "accept"
  /** The first callback: 500 `internal_error` (the backend must retry); then 204. */
  | "fail_first"
  /** A success with another amount than ordered: 400 `payment_amount_not_allowed`; else 204. */
  | "refuse_other_amount";

/** A test order the suite created and expects callbacks for. */
export type ExpectedOrder = {
  orderNo: string;
  script: CallbackScript;
  /** The ordered amount, in minor units of a 2-decimal currency. */
  amountMinor: bigint;
};

/** Which of the integration's tokens the `crm-pay-token` header matched. */
export type TokenMatch = "current" | "previous" | "none";

/** One callback as received, and what the suite answered. */
export type ReceivedCallback = {
  at: number;
  /** The body as sent (at most {@link MAX_KEPT_BODY} characters). */
  rawBody: string;
  contentType: string | null;
  token: TokenMatch;
  answer: { status: number; body: string };
};

/** The callbacks of a test order, kept for the run's judgement. */
export interface CertifyInbox {
  /** Registers an order before API-1 is called (a backend may call back before it answers). */
  expect(order: ExpectedOrder): Promise<void>;
  /** Every callback of the order received so far, oldest first. */
  received(orderNo: string): Promise<ReceivedCallback[]>;
}

/** A body longer than this is kept cut (a callback is a few hundred bytes). */
export const MAX_KEPT_BODY = 8_192;
/** Callbacks kept per test order; later ones are answered and counted as "more", not stored. */
export const MAX_KEPT_PER_ORDER = 50;

/** A callback's body read without the API-2 checks: its parameters and JSON number literals. */
export type LooseBody = { params: FlatParams; literals?: Readonly<Record<string, string>>; form: boolean };

/**
 * Reads a test order's callback as leniently as it can (JSON or form, as the CRM decides), so a
 * malformed one is still judged case by case and shown in the report; undefined when it is
 * neither a flat JSON object nor a form.
 */
export function readLoose(rawBody: string, contentType: string | null): LooseBody | undefined {
  const form = isFormBody(rawBody, contentType);
  try {
    if (form) return { params: parseFormBody(rawBody), form };
    const { params, literals } = parseFlatJson(rawBody);
    return { params, literals, form };
  } catch {
    return undefined;
  }
}

const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

/** The suite's answer to a callback, as the CRM would give it. */
export type ScriptedAnswer =
  | { status: 204 }
  | { status: 400 | 500; type: CallbackErrorType; detail?: string };

/** The answer's body as sent: none for 204, else the API-2 error envelope. */
export const answerBody = (a: ScriptedAnswer): string =>
  a.status === 204 ? "" : JSON.stringify(callbackErrorBody(a.type, a.detail));

/**
 * What the suite answers (pure): a wrong token as the CRM would (400 `psp_token_invalid`), else
 * by the order's script and how many of its callbacks came before. The body's own checks
 * (format, sign) are judged by the cases, not answered, so one mistake fails one case.
 */
export function scriptedAnswer(
  order: ExpectedOrder,
  before: number,
  params: FlatParams | undefined,
  token: TokenMatch,
): ScriptedAnswer {
  if (token === "none")
    return {
      status: 400,
      type: "psp_token_invalid",
      detail: "header crm-pay-token is not this integration's token",
    };
  if (order.script === "fail_first" && before === 0) return { status: 500, type: "internal_error" };
  if (order.script === "refuse_other_amount" && text(params?.status) === "1") {
    const paid = text(params?.amount);
    const parsed = paid === undefined ? undefined : tryParseAmount(paid, 2);
    if (!parsed?.ok || parsed.minor !== order.amountMinor)
      return {
        status: 400,
        type: "payment_amount_not_allowed",
        detail: `\`amount\` \`${(paid ?? "").slice(0, 20)}\` differs from the order's ${formatAmount(order.amountMinor, 2)}`,
      };
  }
  return { status: 204 };
}
