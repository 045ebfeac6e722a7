import type { AlertKind } from "../../infra/db/schema.js";

/**
 * The detectors' rules, pure (docs/operations.md#alerts). Each takes an integration's figures
 * and answers whether its alert should be open now, with the figures that say why. An alert
 * resolves when its rule no longer holds.
 */
export const DEFAULT_THRESHOLDS = {
  /** Callback silence: no callback for this long… */
  silenceMinutes: 15,
  /** …while at least this many payment URLs were issued in that time… */
  silenceMinUrls: 3,
  /** …and the same hour of the day usually has callbacks: median over the last 7 days. */
  silenceMinUsualCallbacks: 4,
  /** API-1 failing, over the last 5 minutes. */
  api1FailureRate: 0.5,
  api1MinCalls: 10,
  /** A spike: at least this many in the last 5 minutes, and this many times the usual rate. */
  spikeMinCount: 5,
  spikeFactor: 5,
} as const;
export type Thresholds = { [K in keyof typeof DEFAULT_THRESHOLDS]: number };

export type DetectorInput = {
  /** Payment URLs issued and callbacks (API-2 only) in the last `silenceMinutes`. */
  silence: { urlsIssued: number; callbacks: number };
  /** Callbacks in the hour around this time of day on each of the last 7 days. */
  sameHourCallbacks: number[];
  /** The last 5 minutes. */
  recent: { api1Ok: number; api1Failed: number; signatureFailures: number; amountMismatches: number };
  /** The 24 hours before the last 5 minutes. */
  baseline: { signatureFailures: number; amountMismatches: number };
};

export type Verdict = { kind: AlertKind; open: boolean; data: Record<string, number> };

const median = (xs: number[]) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** 24 h less 5 minutes holds 287 five-minute slots. */
const BASELINE_SLOTS = 287;

function spike(kind: AlertKind, recent: number, baseline: number, th: Thresholds): Verdict {
  const usualPer5m = baseline / BASELINE_SLOTS;
  const open = recent >= th.spikeMinCount && recent >= th.spikeFactor * usualPer5m;
  return { kind, open, data: { last5m: recent, usualPer5m: Math.round(usualPer5m * 100) / 100 } };
}

export function detect(input: DetectorInput, th: Thresholds = DEFAULT_THRESHOLDS): Verdict[] {
  const usual = median(input.sameHourCallbacks);
  const calls = input.recent.api1Ok + input.recent.api1Failed;
  const failureRate = calls === 0 ? 0 : input.recent.api1Failed / calls;
  return [
    {
      kind: "callback_silence",
      open:
        input.silence.callbacks === 0 &&
        input.silence.urlsIssued >= th.silenceMinUrls &&
        usual >= th.silenceMinUsualCallbacks,
      data: {
        minutes: th.silenceMinutes,
        urlsIssued: input.silence.urlsIssued,
        callbacks: input.silence.callbacks,
        usualCallbacksThisHour: usual,
      },
    },
    {
      kind: "api1_failing",
      open: calls >= th.api1MinCalls && failureRate >= th.api1FailureRate,
      data: { calls, failed: input.recent.api1Failed, failureRate: Math.round(failureRate * 1000) / 1000 },
    },
    spike("signature_failures", input.recent.signatureFailures, input.baseline.signatureFailures, th),
    spike("amount_mismatches", input.recent.amountMismatches, input.baseline.amountMismatches, th),
  ];
}
