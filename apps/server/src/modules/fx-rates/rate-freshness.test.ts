import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";
import {
  cacheDecision,
  interpretRateResponse,
  isFresh,
  unavailableMessage,
  validUntil,
} from "./rate-freshness.js";

const NOW = 1_780_000_000_000;
const ok = (bodyText: string, status = 200): GuardedResponse => ({
  ok: true,
  status,
  headers: {},
  bodyText,
  latencyMs: 3,
});

describe("rate freshness", () => {
  it("a rate is valid until its time plus the TTL, exclusive; no TTL: always", () => {
    expect(validUntil(NOW, 300)).toBe(NOW + 300_000);
    expect(validUntil(NOW, null)).toBeNull();
    expect(isFresh(NOW + 300_000, NOW + 299_999)).toBe(true);
    expect(isFresh(NOW + 300_000, NOW + 300_000)).toBe(false);
    expect(isFresh(null, Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it("cache: fresh before half the TTL, refresh after (at most once a second), fetch past it or when empty", () => {
    const entry = { rateTime: NOW, validUntil: NOW + 300_000, lastAttemptAt: NOW };
    expect(cacheDecision(undefined, NOW)).toBe("fetch");
    expect(cacheDecision(entry, NOW + 149_999)).toBe("fresh");
    expect(cacheDecision(entry, NOW + 150_000)).toBe("refresh");
    expect(cacheDecision({ ...entry, lastAttemptAt: NOW + 150_000 }, NOW + 150_500)).toBe("fresh");
    expect(cacheDecision({ ...entry, lastAttemptAt: NOW + 150_000 }, NOW + 151_000)).toBe("refresh");
    expect(cacheDecision(entry, NOW + 300_000)).toBe("fetch");
  });
});

describe("an exchange-rate API's answer", () => {
  it("takes a string rate (normalized) and integer Unix ms", () => {
    expect(interpretRateResponse(ok(`{"rate":"1.07810","time":${NOW}}`), NOW)).toEqual({
      ok: true,
      rate: "1.0781",
      rateTime: NOW,
    });
    expect(interpretRateResponse(ok(`{"rate":"1","time":${NOW + 60_000}}`), NOW).ok).toBe(true);
  });

  it.each([
    ["a number rate", `{"rate":1.0781,"time":${NOW}}`, "rate is not a string"],
    ["an exponent", `{"rate":"1e3","time":${NOW}}`, "not a plain decimal"],
    ["a zero rate", `{"rate":"0","time":${NOW}}`, "not a plain decimal"],
    ["13 significant digits", `{"rate":"1.234567890123","time":${NOW}}`, "not a plain decimal"],
    ["seconds as text", `{"rate":"1.1","time":"${NOW}"}`, "time is not"],
    ["a fractional time", `{"rate":"1.1","time":${NOW}.5}`, "time is not"],
    ["a time over a minute ahead", `{"rate":"1.1","time":${NOW + 60_001}}`, "in the future"],
    ["not JSON", "<html>", "not JSON"],
    ["an array", "[]", "not an object"],
  ])("refuses %s", (_label, body, detail) => {
    const r = interpretRateResponse(ok(body), NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.detail).toContain(detail);
  });

  it("refuses a non-2xx status and a transport failure", () => {
    expect(interpretRateResponse(ok(`{"rate":"1.1","time":${NOW}}`, 401), NOW)).toEqual({
      ok: false,
      detail: "http_status_401",
    });
    expect(
      interpretRateResponse({ ok: false, reason: "timeout", detail: "after 200 ms", latencyMs: 200 }, NOW),
    ).toEqual({ ok: false, detail: "timeout" });
  });

  it("tells the client the pair only", () => {
    expect(unavailableMessage("EUR", "USD")).toBe(
      "The EUR → USD exchange rate is not available right now. Try again in a few minutes.",
    );
  });
});

describe("docs/psp-open-api.md#exchange-rate-api", () => {
  it("its example answer is one the CRM accepts", () => {
    const doc = readFileSync(new URL("../../../../../docs/psp-open-api.md", import.meta.url), "utf8");
    const example = /```json fx-answer\n(.*)\n```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const time = JSON.parse(example!).time as number;
    expect(interpretRateResponse(ok(example!), time)).toEqual({ ok: true, rate: "1.0781", rateTime: time });
  });
});
