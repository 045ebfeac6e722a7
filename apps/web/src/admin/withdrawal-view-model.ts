import { formatAmount } from "@psphub/protocol";
import { isMessageKey, t } from "../i18n/index.js";
import { money } from "../lib/money.js";
import type { AdminWithdrawalDetail, WithdrawalActions, WithdrawalEvent } from "./types.js";

/**
 * How the back office words a withdrawal: the timeline's events, why an action is not open to
 * the person looking, the risk flags, and which actions to offer. Pure, so it is unit-tested.
 */

/** The number of decimals of a decimal text ("150.00" → 2, "1500" → 0). */
export const decimalsOfText = (amount: string): number => {
  const dot = amount.indexOf(".");
  return dot < 0 ? 0 : amount.length - dot - 1;
};

/**
 * An amount of a timeline event, shown with its currency. Events record minor units as integer
 * text ("15000"); decimal text ("150.00") is shown as it is. `like` is an amount of the same
 * withdrawal in decimal text, whose decimals read the minor units.
 */
export function eventMoney(value: unknown, currency: string, like: string): string {
  if (typeof value === "number" && Number.isSafeInteger(value)) value = String(value);
  if (typeof value !== "string" || value === "") return "—";
  if (/^-?\d+$/.test(value)) return money(formatAmount(BigInt(value), decimalsOfText(like)), currency);
  return money(value, currency);
}

const text = (v: unknown): string =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** A translated word for `prefix + code`, or the code itself when the dictionary has none yet. */
export function wordFor(prefix: string, code: string): string {
  const key = `${prefix}${code}`;
  return isMessageKey(key) ? t(key) : code;
}

/** Why an action is not open to this person, in words (`why` as the server names it). */
export const whyText = (why: string | null): string => (why ? wordFor("wwhy.", why) : "");

/** A timeline event's title: its kind in words. */
export const eventTitle = (kind: string): string => wordFor("wevent.", kind);

/** The data keys each known kind's sentence already says; the rest are listed under it. */
const SAID: Record<string, readonly string[]> = {
  requested: ["amount", "fee", "by"],
  hold_placed: ["amount"],
  hold_released: ["amount"],
  debited: ["amount"],
  approved: ["level", "of", "by", "comment"],
  rejected: ["level", "of", "by", "comment", "clientReason"],
  cancelled: ["by"],
  paid: ["reference", "by", "cause", "transactionId"],
  needs_assistance: ["why"],
  payout_started: ["by"],
  api4_accepted: ["transactionId"],
  api4_refused: ["msg"],
  api4_failed: ["reason"],
  api5: ["status"],
  payout_status_query: ["status", "outcome", "reason"],
  payout_processing: ["transactionId", "cause"],
  payout_failed: ["reason", "cause", "transactionId"],
  failed: ["reason", "by", "cause", "transactionId"],
  resolved: ["action", "by"],
};

/** A payout result as API-5 and the status query report it (0 failed, 1 paid, 2 processing), in words. */
const payoutResult = (status: unknown): string =>
  status === 1 || status === "1"
    ? t("wevent.resultPaid")
    : status === 0 || status === "0"
      ? t("wevent.resultFailed")
      : status === 2 || status === "2"
        ? t("wevent.resultProcessing")
        : text(status);

/**
 * What an event says, in a sentence (the kinds the use-cases write today), with the person
 * named by email where the decisions know them; null for a kind without one.
 */
export function eventSentence(
  e: Pick<WithdrawalEvent, "kind" | "data">,
  d: Pick<AdminWithdrawalDetail, "currency" | "amount">,
  people: ReadonlyMap<string, string>,
): string | null {
  const data = e.data;
  const amount = (k: string) => eventMoney(data[k], d.currency, d.amount);
  const who = (k: string) => {
    const id = text(data[k]);
    return people.get(id) ?? (id || "—");
  };
  switch (e.kind) {
    case "requested":
      // `by`: "client" in the portal, else the staff member who asked on the client's behalf.
      return data.by && data.by !== "client"
        ? t("wevent.requestedByStaff", { amount: amount("amount"), fee: amount("fee"), by: who("by") })
        : t("wevent.requestedText", { amount: amount("amount"), fee: amount("fee") });
    case "hold_placed":
      return t("wevent.holdPlacedText", { amount: amount("amount") });
    case "hold_released":
      return t("wevent.holdReleasedText", { amount: amount("amount") });
    case "debited":
      return t("wevent.debitedText", { amount: amount("amount") });
    case "approved":
      return t("wevent.approvedText", {
        level: text(data.level),
        of: text(data.of),
        by: who("by"),
        comment: text(data.comment),
      });
    case "rejected":
      return t("wevent.rejectedText", {
        level: text(data.level),
        by: who("by"),
        comment: text(data.comment),
        reason: text(data.clientReason),
      });
    case "cancelled":
      return data.by === "client" ? t("wevent.cancelledByClient") : t("wevent.cancelledText");
    case "paid":
      return data.reference
        ? t("wevent.paidText", { reference: text(data.reference), by: who("by") })
        : t("wevent.paidThrough", { transactionId: text(data.transactionId) || "—" });
    case "needs_assistance":
      return wordFor("wassist.", text(data.why));
    case "payout_started":
      return t("wevent.payoutStartedText", { by: who("by") });
    case "api4_accepted":
      return t("wevent.api4AcceptedText", { transactionId: text(data.transactionId) || "—" });
    case "api4_refused":
      return t("wevent.api4RefusedText", { msg: text(data.msg) || "—" });
    case "api4_failed":
      return t("wevent.api4FailedText", { reason: text(data.reason) || "—" });
    case "api5":
      return t("wevent.api5Text", { result: payoutResult(data.status) });
    case "payout_status_query":
      if (data.status !== undefined && data.status !== null)
        return t("wevent.statusQueryText", { result: payoutResult(data.status) });
      return data.outcome === "not_found"
        ? t("wevent.statusQueryNotFound")
        : t("wevent.statusQueryFailed", { reason: text(data.reason) || "—" });
    case "payout_processing":
      return t("wevent.payoutProcessingText", { transactionId: text(data.transactionId) || "—" });
    case "payout_failed":
      return t("wevent.payoutFailedKept", {
        reason: wordFor("wfail.", text(data.reason)),
        amount: money(d.amount, d.currency),
      });
    case "failed":
      return data.cause === "manual"
        ? t("wevent.markedFailedText", { by: who("by"), comment: text(data.reason) })
        : t("wevent.failedText", { reason: wordFor("wfail.", text(data.reason)) });
    case "resolved":
      return data.action === "check_now"
        ? t("wevent.checkedNowText", { by: who("by") })
        : t("wevent.resolvedText", { by: who("by") });
    default:
      return null;
  }
}

/** The event's data the sentence does not say, as "key: value" lines (payout engine events). */
export function eventDetails(e: Pick<WithdrawalEvent, "kind" | "data">): [string, string][] {
  const said = SAID[e.kind] ?? [];
  return Object.entries(e.data)
    .filter(([k, v]) => !said.includes(k) && v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [k, text(v)]);
}

export type ActionName = keyof WithdrawalActions;

/** The order the detail page offers the actions in. */
export const ACTION_ORDER: readonly ActionName[] = [
  "approve",
  "reject",
  "markPaid",
  "startPayout",
  "checkPayout",
  "markFailed",
];

/**
 * The actions worth showing for this withdrawal: those open to this person, and those its state
 * calls for but this person may not take (shown disabled with the reason, e.g. the second level
 * for the person who decided the first).
 */
export function actionsToShow(
  d: Pick<AdminWithdrawalDetail, "status" | "payoutMode" | "needsAssistance" | "integrationId" | "actions">,
): ActionName[] {
  const open = d.status === "requested" || d.status === "approving";
  const integration = d.payoutMode === "integration";
  const started = d.integrationId !== null;
  const inFlight = d.status === "approved" || d.status === "paying";
  const called: Record<ActionName, boolean> = {
    approve: open,
    reject: open,
    markPaid: (d.status === "approved" && !integration) || (inFlight && d.needsAssistance !== null),
    // Once started (the withdrawal names its integration) the payout is checked, not started again.
    startPayout: d.status === "approved" && integration && !started,
    checkPayout: inFlight && integration && started,
    markFailed: inFlight && integration && started && d.needsAssistance !== null,
  };
  return ACTION_ORDER.filter((a) => d.actions[a].allowed || called[a]);
}

/**
 * Whether a payout through an integration is under way with nothing for finance to do: its
 * result comes from the integration by itself (the page looks again now and then).
 */
export const payoutUnderWay = (
  d: Pick<AdminWithdrawalDetail, "status" | "integrationId" | "needsAssistance">,
): boolean =>
  (d.status === "approved" || d.status === "paying") &&
  d.integrationId !== null &&
  d.needsAssistance === null;

/** Risk flag → its short name and its explanation. */
export const riskLabel = (flag: string): string => wordFor("wrisk.label.", flag);
export const riskExplained = (flag: string): string => wordFor("wrisk.text.", flag);

/** "1/2": the levels decided of those the withdrawal needs. */
export const progressText = (w: { levelsDone: number; levelsRequired: number }): string =>
  `${w.levelsDone}/${w.levelsRequired}`;
