import { describe, expect, it } from "vitest";
import type { DepositStatus } from "../../infra/db/schema.js";
import { ALLOWED_TRANSITIONS } from "../../test/settlement-fixtures.js";
import { classifyResult, type ResultStatus } from "../settlement/settlement-planner.js";
import {
  canResolveLate,
  canTransition,
  DEPOSIT_STATUSES,
  decideCallback,
  isTerminal,
  sourcesOf,
  statusFromCallback,
} from "./deposit-state.js";

// The state machine the settlement relies on is written out pair by pair in ALLOWED_TRANSITIONS;
// the late credits a person may make, here.
const LATE = new Set(["expired>succeeded", "cancelled>succeeded", "failed>succeeded"]);
const PAIRS = DEPOSIT_STATUSES.flatMap((from) => DEPOSIT_STATUSES.map((to) => [from, to] as const));
const RESULTS: ResultStatus[] = ["processing", "succeeded", "failed"];

describe("deposit state machine, every pair", () => {
  it("has six statuses and 36 pairs", () => {
    expect(PAIRS).toHaveLength(36);
  });

  for (const [from, to] of PAIRS) {
    const allowed = ALLOWED_TRANSITIONS.has(`${from}>${to}`);
    it(`${from} → ${to}: ${allowed ? "allowed" : "refused"}`, () => {
      expect(canTransition(from, to)).toBe(allowed);
      expect(sourcesOf(to).includes(from)).toBe(allowed);
      // Only a human resolving a review item may credit a closed, uncredited deposit.
      expect(canResolveLate(from, to)).toBe(LATE.has(`${from}>${to}`));
    });
  }

  it("never leaves a terminal status through the state machine, and succeeded is final for humans too", () => {
    for (const [from, to] of PAIRS) {
      if (isTerminal(from)) expect(canTransition(from, to)).toBe(false);
      expect(canResolveLate("succeeded", to)).toBe(false);
    }
  });

  it("maps API-2 statuses 0/1/2 and nothing else", () => {
    expect([0, 1, 2].map(statusFromCallback)).toEqual(["failed", "succeeded", "processing"]);
    for (const bad of [3, -1, 1.5, Number.NaN]) expect(statusFromCallback(bad)).toBeUndefined();
  });
});

describe("what a result means for a deposit in each status", () => {
  const expected = (current: DepositStatus, to: ResultStatus) => {
    if (current === to) return "repeat";
    if (ALLOWED_TRANSITIONS.has(`${current}>${to}`)) return "apply";
    if (to === "succeeded" && (current === "expired" || current === "cancelled")) return "late";
    return "conflict";
  };

  for (const current of DEPOSIT_STATUSES) {
    for (const to of RESULTS) {
      it(`${to} on ${current}: ${expected(current, to)}`, () => {
        expect(decideCallback(current, to).kind).toBe(expected(current, to));
        if (expected(current, to) !== "apply") {
          const c = classifyResult(current, to);
          expect(c.kind).toBe(expected(current, to));
          if (c.kind === "conflict" || c.kind === "late") expect(c.current).toBe(current);
        }
      });
    }
  }

  // docs/failure-modes.md#failure-mode-5
  it("refuses a stale processing after a final status (monotonic, failure mode 5)", () => {
    for (const s of ["succeeded", "failed", "expired", "cancelled"] as const) {
      expect(decideCallback(s, "processing").kind).toBe("conflict");
    }
  });
});
