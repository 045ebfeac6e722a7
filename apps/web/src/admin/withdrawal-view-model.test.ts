import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import type { WithdrawalActions } from "./types.js";
import {
  actionsToShow,
  decimalsOfText,
  eventDetails,
  eventMoney,
  eventSentence,
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
    const open = { status: "approving" as const, payoutMode: "manual" as const, needsAssistance: null };
    const mine = { ...none, approve: no("already_decided_by_you"), reject: no("already_decided_by_you") };
    expect(actionsToShow({ ...open, actions: mine })).toEqual(["approve", "reject"]);
    expect(whyText("already_decided_by_you")).toBe(t("wwhy.already_decided_by_you"));
    expect(whyText("some_new_reason")).toBe("some_new_reason");
  });

  it("offers the payout record once approved by hand, and nothing after it is paid", () => {
    const approved = { status: "approved" as const, payoutMode: "manual" as const, needsAssistance: null };
    expect(actionsToShow({ ...approved, actions: { ...none, markPaid: yes } })).toEqual(["markPaid"]);
    expect(actionsToShow({ ...approved, actions: { ...none, markPaid: no("role_not_allowed") } })).toEqual([
      "markPaid",
    ]);
    expect(actionsToShow({ ...approved, status: "paid", actions: none })).toEqual([]);
    const viaIntegration = { ...approved, payoutMode: "integration" as const };
    expect(actionsToShow({ ...viaIntegration, actions: { ...none, startPayout: yes } })).toEqual([
      "startPayout",
      "checkPayout",
    ]);
  });
});
