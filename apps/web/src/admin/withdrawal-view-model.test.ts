import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import type { WithdrawalActions } from "./types.js";
import {
  actionsToShow,
  decimalsOfText,
  eventDetails,
  eventMoney,
  eventSentence,
  payoutUnderWay,
  whyText,
} from "./withdrawal-view-model.js";

const no = (why: string) => ({ allowed: false, why });
const yes = { allowed: true, why: null };
const none: WithdrawalActions = {
  approve: no("not_open"),
  reject: no("not_open"),
  markPaid: no("withdrawal_not_payable"),
  startPayout: no("payout_not_startable"),
  checkPayout: no("payout_not_started"),
  markFailed: no("payout_not_in_assistance"),
};

describe("how the back office words a withdrawal", () => {
  it("reads an event's minor units with the withdrawal's decimals, never through a float", () => {
    expect(decimalsOfText("150.00")).toBe(2);
    expect(decimalsOfText("1500")).toBe(0);
    expect(eventMoney("15000", "USD", "150.00")).toBe("150.00 USD");
    expect(eventMoney("900719925474099312", "USD", "1.00")).toBe("9,007,199,254,740,993.12 USD");
    expect(eventMoney("1500", "JPY", "1500")).toBe("1,500 JPY");
    expect(eventMoney("150.00", "USD", "150.00")).toBe("150.00 USD");
    expect(eventMoney(undefined, "USD", "1.00")).toBe("—");
  });

  it("says each decision with the person's email and the comment", () => {
    const d = { currency: "USD", amount: "150.00" };
    const people = new Map([["u1", "ann@acme.test"]]);
    expect(
      eventSentence({ kind: "approved", data: { level: 1, of: 2, by: "u1", comment: "ok" } }, d, people),
    ).toBe(t("wevent.approvedText", { level: "1", of: "2", by: "ann@acme.test", comment: "ok" }));
    expect(eventSentence({ kind: "requested", data: { amount: "15000", fee: "255" } }, d, people)).toBe(
      t("wevent.requestedText", { amount: "150.00 USD", fee: "2.55 USD" }),
    );
    expect(
      eventSentence({ kind: "requested", data: { amount: "15000", fee: "255", by: "u1" } }, d, people),
    ).toBe(t("wevent.requestedByStaff", { amount: "150.00 USD", fee: "2.55 USD", by: "ann@acme.test" }));
    expect(eventSentence({ kind: "api4_sent", data: { latencyMs: 12 } }, d, people)).toBeNull();
    expect(eventDetails({ kind: "api4_sent", data: { latencyMs: 12, msg: null } })).toEqual([
      ["latencyMs", "12"],
    ]);
    expect(eventDetails({ kind: "approved", data: { level: 1, of: 2, by: "u1", comment: "ok" } })).toEqual(
      [],
    );
  });

  it("offers the decisions of an open withdrawal, disabled with the reason for who may not take them", () => {
    const open = {
      status: "approving" as const,
      payoutMode: "manual" as const,
      needsAssistance: null,
      integrationId: null,
    };
    const mine = { ...none, approve: no("already_decided_by_you"), reject: no("already_decided_by_you") };
    expect(actionsToShow({ ...open, actions: mine })).toEqual(["approve", "reject"]);
    expect(whyText("already_decided_by_you")).toBe(t("wwhy.already_decided_by_you"));
    expect(whyText("some_new_reason")).toBe("some_new_reason");
  });

  it("offers the payout record once approved by hand, and nothing after it is paid", () => {
    const approved = {
      status: "approved" as const,
      payoutMode: "manual" as const,
      needsAssistance: null,
      integrationId: null,
    };
    expect(actionsToShow({ ...approved, actions: { ...none, markPaid: yes } })).toEqual(["markPaid"]);
    expect(actionsToShow({ ...approved, actions: { ...none, markPaid: no("role_not_allowed") } })).toEqual([
      "markPaid",
    ]);
    expect(actionsToShow({ ...approved, status: "paid", actions: none })).toEqual([]);
  });

  it("offers a payout through an integration to start once, then to check, and to close by hand when it needs assistance", () => {
    const approved = {
      status: "approved" as const,
      payoutMode: "integration" as const,
      needsAssistance: null as string | null,
      integrationId: null as string | null,
    };
    // Not started: only Start payout (nothing to check yet).
    expect(actionsToShow({ ...approved, actions: { ...none, startPayout: yes } })).toEqual(["startPayout"]);
    // Started: checked, never started again (no disabled Start payout left behind).
    const started = { ...approved, integrationId: "i1" };
    expect(
      actionsToShow({
        ...started,
        actions: { ...none, startPayout: no("payout_not_startable"), checkPayout: yes },
      }),
    ).toEqual(["checkPayout"]);
    expect(payoutUnderWay(started)).toBe(true);
    expect(payoutUnderWay({ ...started, status: "paying" })).toBe(true);
    // Needs assistance: record it paid, check again, or close it as failed; nothing comes by itself.
    const stuck = { ...started, status: "paying" as const, needsAssistance: "failed_hold_kept" };
    expect(
      actionsToShow({ ...stuck, actions: { ...none, markPaid: yes, checkPayout: yes, markFailed: yes } }),
    ).toEqual(["markPaid", "checkPayout", "markFailed"]);
    expect(payoutUnderWay(stuck)).toBe(false);
    expect(payoutUnderWay({ ...approved })).toBe(false);
    expect(actionsToShow({ ...stuck, status: "failed", needsAssistance: null, actions: none })).toEqual([]);
  });

  it("says each payout step in a sentence, with the hold kept or released", () => {
    const d = { currency: "USD", amount: "150.00" };
    const people = new Map([["u1", "fay@acme.test"]]);
    const say = (kind: string, data: Record<string, unknown>) => eventSentence({ kind, data }, d, people);
    expect(say("api4_failed", { reason: "http_status_502", latencyMs: 3, step: 0 })).toBe(
      t("wevent.api4FailedText", { reason: "http_status_502" }),
    );
    expect(
      eventDetails({ kind: "api4_failed", data: { reason: "http_status_502", latencyMs: 3, step: 0 } }),
    ).toEqual([
      ["latencyMs", "3"],
      ["step", "0"],
    ]);
    expect(say("api4_accepted", { transactionId: "tx-1", latencyMs: 3 })).toBe(
      t("wevent.api4AcceptedText", { transactionId: "tx-1" }),
    );
    expect(say("api5", { status: 1, amount: "148", verdict: "accepted" })).toBe(
      t("wevent.api5Text", { result: t("wevent.resultPaid") }),
    );
    expect(say("payout_status_query", { outcome: "not_found", reason: "payout_not_found" })).toBe(
      t("wevent.statusQueryNotFound"),
    );
    expect(say("payout_failed", { cause: "callback", reason: "psp_reported_failure" })).toBe(
      t("wevent.payoutFailedKept", { reason: t("wfail.psp_reported_failure"), amount: "150.00 USD" }),
    );
    expect(say("failed", { cause: "manual", by: "u1", reason: "Bank returned it" })).toBe(
      t("wevent.markedFailedText", { by: "fay@acme.test", comment: "Bank returned it" }),
    );
    expect(say("failed", { cause: "api4", reason: "api4_refused" })).toBe(
      t("wevent.failedText", { reason: t("wfail.api4_refused") }),
    );
    expect(say("resolved", { action: "check_now", by: "u1" })).toBe(
      t("wevent.checkedNowText", { by: "fay@acme.test" }),
    );
    expect(eventDetails({ kind: "failed", data: { cause: "manual", by: "u1", reason: "x" } })).toEqual([]);
  });
});
