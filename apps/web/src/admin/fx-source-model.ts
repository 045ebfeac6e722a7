import { tryParseRate } from "@psphub/protocol";
import { t } from "../i18n/index.js";
import { bpsToMarkupPercent, MAX_MARKUP_PERCENT, markupPercentToBps } from "./markup-model.js";
import type {
  FxManualRate,
  FxRateInput,
  FxSource,
  FxSourceInput,
  FxSourceKind,
  FxSourceUpdate,
} from "./types.js";

/**
 * The forms of the exchange-rates page, pure: a rate source (a manual table or an external
 * API) and a manual table's pair. The limits are the server's (the rate-source routes refuse
 * the same values); checking them here shows the error before the round trip.
 */
export const SOURCE_LIMITS = {
  timeoutMs: { min: 100, max: 15_000, default: 3_000 },
  ttlSeconds: { min: 10, max: 86_400, default: 300 },
} as const;

export interface SourceFormValues {
  kind: FxSourceKind;
  name: string;
  url: string;
  timeoutMs: number | string;
  /** "" = no expiry (a manual table only). */
  ttlSeconds: number | string;
}

export const emptySourceValues = (kind: FxSourceKind): SourceFormValues => ({
  kind,
  name: "",
  url: "",
  timeoutMs: SOURCE_LIMITS.timeoutMs.default,
  ttlSeconds: kind === "external" ? SOURCE_LIMITS.ttlSeconds.default : "",
});

export const sourceValuesOf = (s: FxSource): SourceFormValues => ({
  kind: s.kind,
  name: s.name,
  url: s.url ?? "",
  timeoutMs: s.timeoutMs,
  ttlSeconds: s.ttlSeconds ?? "",
});

const inRange = (v: number | string, r: { min: number; max: number }) => {
  const n = Number(v);
  return v !== "" && Number.isInteger(n) && n >= r.min && n <= r.max;
};

export function sourceErrors(v: SourceFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = t("validation.required");
  const ttl = SOURCE_LIMITS.ttlSeconds;
  if (v.kind === "external") {
    let url: URL | null = null;
    try {
      url = new URL(v.url.trim());
    } catch {
      url = null;
    }
    if (!v.url.trim()) e.url = t("validation.required");
    else if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) e.url = t("validation.httpUrl");
    const to = SOURCE_LIMITS.timeoutMs;
    if (!inRange(v.timeoutMs, to)) e.timeoutMs = t("validation.range", { min: to.min, max: to.max });
    if (!inRange(v.ttlSeconds, ttl)) e.ttlSeconds = t("validation.range", { min: ttl.min, max: ttl.max });
  } else if (v.ttlSeconds !== "" && !inRange(v.ttlSeconds, ttl)) {
    e.ttlSeconds = t("validation.range", { min: ttl.min, max: ttl.max });
  }
  return e;
}

export function sourceUpdateBody(v: SourceFormValues): FxSourceUpdate {
  const name = v.name.trim();
  if (v.kind === "manual") return { name, ttlSeconds: v.ttlSeconds === "" ? null : Number(v.ttlSeconds) };
  return { name, url: v.url.trim(), timeoutMs: Number(v.timeoutMs), ttlSeconds: Number(v.ttlSeconds) };
}

export function sourceCreateBody(v: SourceFormValues): FxSourceInput {
  const body = sourceUpdateBody(v);
  return v.kind === "manual"
    ? { kind: "manual", ...(body as { name: string; ttlSeconds: number | null }) }
    : { kind: "external", ...(body as { name: string; url: string; timeoutMs: number; ttlSeconds: number }) };
}

/** A manual table's pair as the form edits it (the markup in %). */
export interface RateFormValues {
  from: string;
  to: string;
  rate: string;
  markupPercent: string;
}

export const emptyRateValues = (): RateFormValues => ({ from: "", to: "", rate: "", markupPercent: "0" });

export const rateValuesOf = (r: FxManualRate): RateFormValues => ({
  from: r.from,
  to: r.to,
  rate: r.rate,
  markupPercent: bpsToMarkupPercent(r.markupBps),
});

const CODE = /^[A-Z][A-Z0-9]{2,9}$/;

export function rateErrors(v: RateFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  const from = v.from.trim().toUpperCase();
  const to = v.to.trim().toUpperCase();
  if (!CODE.test(from)) e.from = t("methods.codeFormat");
  if (!CODE.test(to)) e.to = t("methods.codeFormat");
  else if (to === from) e.to = t("fx.conv.sameCurrency");
  if (tryParseRate(v.rate.trim()) === null) e.rate = t("fx.rates.rateFormat");
  if (markupPercentToBps(v.markupPercent.trim() || "0") === null)
    e.markupPercent = t("fx.markup.format", { max: MAX_MARKUP_PERCENT });
  return e;
}

/** The pair's path (upper-case codes) and its PUT body. */
export function rateRequest(v: RateFormValues): {
  from: string;
  to: string;
  body: FxRateInput;
} {
  return {
    from: v.from.trim().toUpperCase(),
    to: v.to.trim().toUpperCase(),
    body: { rate: v.rate.trim(), markupBps: markupPercentToBps(v.markupPercent.trim() || "0") ?? 0 },
  };
}

/** A server issue's path on a pair's body as the form's path. */
export const rateServerPath = (path: string): string => (path === "markupBps" ? "markupPercent" : path);
