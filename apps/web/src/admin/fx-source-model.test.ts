import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { t } from "../i18n/index.js";
import {
  emptyRateValues,
  emptySourceValues,
  rateErrors,
  rateRequest,
  rateServerPath,
  rateValuesOf,
  SOURCE_LIMITS,
  sourceCreateBody,
  sourceErrors,
  sourceUpdateBody,
  sourceValuesOf,
} from "./fx-source-model.js";
import type { FxSource } from "./types.js";

const source = (over: Partial<FxSource>): FxSource => ({
  id: "s1",
  kind: "external",
  name: "Treasury",
  url: "https://rates.example.com/fx",
  keyLast4: "ab12",
  timeoutMs: 2000,
  ttlSeconds: 60,
  pairs: 0,
  alert: null,
  createdAt: 1,
  updatedAt: 2,
  ...over,
});

describe("the rate source form", () => {
  it("starts an external API with the server's defaults and a manual table without expiry", () => {
    expect(emptySourceValues("external")).toMatchObject({ timeoutMs: 3000, ttlSeconds: 300 });
    expect(emptySourceValues("manual").ttlSeconds).toBe("");
  });

  it("sends an external API's fields and a manual table's name and optional TTL", () => {
    const ext = { ...sourceValuesOf(source({})), name: " Treasury " };
    expect(sourceErrors(ext)).toEqual({});
    expect(sourceCreateBody(ext)).toEqual({
      kind: "external",
      name: "Treasury",
      url: "https://rates.example.com/fx",
      timeoutMs: 2000,
      ttlSeconds: 60,
    });
    const manual = sourceValuesOf(source({ kind: "manual", url: null, keyLast4: null, ttlSeconds: null }));
    expect(sourceErrors(manual)).toEqual({});
    expect(sourceCreateBody(manual)).toEqual({ kind: "manual", name: "Treasury", ttlSeconds: null });
    expect(sourceUpdateBody({ ...manual, ttlSeconds: 3600 })).toEqual({ name: "Treasury", ttlSeconds: 3600 });
  });

  it("names each wrong field", () => {
    const bad = { ...emptySourceValues("external"), url: "ftp://x", timeoutMs: 99, ttlSeconds: 86_401 };
    expect(sourceErrors(bad)).toEqual({
      name: t("validation.required"),
      url: t("validation.httpUrl"),
      timeoutMs: t("validation.range", { min: 100, max: 15_000 }),
      ttlSeconds: t("validation.range", { min: 10, max: 86_400 }),
    });
    expect(sourceErrors({ ...emptySourceValues("external"), name: "x" })).toEqual({
      url: t("validation.required"),
    });
    expect(sourceErrors({ ...emptySourceValues("manual"), name: "x", ttlSeconds: 5 })).toHaveProperty(
      "ttlSeconds",
    );
  });

  it("accepts exactly the server's ranges", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (timeoutMs, ttl) => {
          const e = sourceErrors({
            kind: "external",
            name: "a",
            url: "https://a.example",
            timeoutMs,
            ttlSeconds: ttl,
          });
          const { timeoutMs: to, ttlSeconds: tt } = SOURCE_LIMITS;
          expect("timeoutMs" in e).toBe(timeoutMs < to.min || timeoutMs > to.max);
          expect("ttlSeconds" in e).toBe(ttl < tt.min || ttl > tt.max);
        },
      ),
    );
  });
});

describe("a manual table's pair", () => {
  it("sends upper-case codes, the rate as typed and the markup in basis points", () => {
    const v = { from: "eur", to: " usd", rate: " 1.0781 ", markupPercent: "0.75" };
    expect(rateErrors(v)).toEqual({});
    expect(rateRequest(v)).toEqual({ from: "EUR", to: "USD", body: { rate: "1.0781", markupBps: 75 } });
    expect(
      rateValuesOf({ from: "EUR", to: "USD", rate: "1.0781", markupBps: 75, updatedAt: 1, updatedBy: null }),
    ).toEqual({ from: "EUR", to: "USD", rate: "1.0781", markupPercent: "0.75" });
  });

  it("refuses rates that are not positive plain decimals of up to 12 significant digits", () => {
    for (const rate of ["", "0", "-1", "1e3", "1,5", "1.0000000000001", "abc"]) {
      expect(rateErrors({ ...emptyRateValues(), from: "EUR", to: "USD", rate }), rate).toEqual({
        rate: t("fx.rates.rateFormat"),
      });
    }
    expect(rateErrors({ from: "EUR", to: "eur", rate: "1", markupPercent: "51" })).toEqual({
      to: t("fx.conv.sameCurrency"),
      markupPercent: t("fx.markup.format", { max: "50" }),
    });
  });

  it("maps the server's markup issue onto the percentage input", () => {
    expect(rateServerPath("markupBps")).toBe("markupPercent");
    expect(rateServerPath("rate")).toBe("rate");
  });
});
