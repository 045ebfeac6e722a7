import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS, type DetectorInput, detect } from "./health-detectors.js";

const quiet: DetectorInput = {
  silence: { urlsIssued: 0, callbacks: 0 },
  sameHourCallbacks: [],
  recent: { api1Ok: 0, api1Failed: 0, signatureFailures: 0, amountMismatches: 0 },
  baseline: { signatureFailures: 0, amountMismatches: 0 },
};
const open = (input: Partial<DetectorInput>) =>
  Object.fromEntries(detect({ ...quiet, ...input }).map((v) => [v.kind, v.open]));

describe("detectors", () => {
  it("a quiet integration opens nothing", () => {
    expect(Object.values(open({})).some(Boolean)).toBe(false);
  });

  it("callback silence needs URLs issued, no callback, and callbacks usual at this hour", () => {
    const usual = [9, 8, 10, 0, 12, 7, 9];
    expect(
      open({ silence: { urlsIssued: 5, callbacks: 0 }, sameHourCallbacks: usual }).callback_silence,
    ).toBe(true);
    expect(
      open({ silence: { urlsIssued: 5, callbacks: 1 }, sameHourCallbacks: usual }).callback_silence,
    ).toBe(false);
    expect(
      open({ silence: { urlsIssued: 2, callbacks: 0 }, sameHourCallbacks: usual }).callback_silence,
    ).toBe(false);
    // A quiet hour (the median of the last 7 days is below the threshold): silence is normal.
    expect(
      open({ silence: { urlsIssued: 5, callbacks: 0 }, sameHourCallbacks: [0, 0, 0, 20, 20, 0, 3] })
        .callback_silence,
    ).toBe(false);
  });

  it("API-1 failing: a failure rate over a minimum number of calls", () => {
    const th = DEFAULT_THRESHOLDS;
    const r = (ok: number, failed: number) => ({
      api1Ok: ok,
      api1Failed: failed,
      signatureFailures: 0,
      amountMismatches: 0,
    });
    expect(open({ recent: r(5, 5) }).api1_failing).toBe(th.api1FailureRate <= 0.5);
    expect(open({ recent: r(0, 9) }).api1_failing).toBe(false);
    expect(open({ recent: r(9, 1) }).api1_failing).toBe(false);
  });

  it("spikes: a minimum count and a multiple of the usual rate", () => {
    const r = (sig: number) => ({ api1Ok: 0, api1Failed: 0, signatureFailures: sig, amountMismatches: sig });
    expect(open({ recent: r(5) })).toMatchObject({ signature_failures: true, amount_mismatches: true });
    expect(open({ recent: r(4) })).toMatchObject({ signature_failures: false, amount_mismatches: false });
    // 287 × 5 in the day before: 5 per 5 minutes is usual, 24 is not yet a spike, 25 is.
    const baseline = { signatureFailures: 287 * 5, amountMismatches: 0 };
    expect(open({ recent: r(24), baseline }).signature_failures).toBe(false);
    expect(open({ recent: r(25), baseline }).signature_failures).toBe(true);
  });
});
