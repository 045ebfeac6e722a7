import { afterEach, describe, expect, it } from "vitest";
import { en } from "../i18n/en.js";
import { configureLocales, setLocale } from "../i18n/index.js";
import { ALL_LOCALES } from "../i18n/locales.js";
import { zh } from "../i18n/zh.js";
import { ApiError } from "./api.js";

/**
 * The codes the portal's endpoints answer (login, me, logout, deposit methods, deposits: create,
 * list, one, events, cancel), from the server's error hierarchy and its one error handler.
 */
const PORTAL_CODES = [
  "unauthenticated", // 401: no session, expired, bad login
  "csrf_failed", // 403 on a write
  "forbidden",
  "validation_failed", // 400 with field issues
  "not_found", // 404: deposit, method not visible
  "rate_limited", // 429: logins, deposits per minute, status streams
  "password_hashing_busy", // 503 on login
  "request_timeout", // 408
  "body_too_large", // 413
  "idempotency_key_reused", // 409 on create
  "method_changed", // 409 on create
  "deposit_final", // 409 on cancel
  "internal", // 500
  "network", // fetch failed, no answer
];

describe("errors as a client reads them", () => {
  afterEach(() => configureLocales(["en"]));

  it("has words of its own for every code a portal endpoint answers", () => {
    configureLocales(ALL_LOCALES);
    setLocale("en");
    const generic = en["portalError.generic"];
    const withoutWords = PORTAL_CODES.filter(
      (c) => new ApiError(400, c, "server words", [], true).message === generic,
    );
    expect(withoutWords).toEqual([]);
  });

  it("never shows the server's words in the portal, and follows a language switch", () => {
    configureLocales(ALL_LOCALES);
    setLocale("en");
    const err = new ApiError(
      409,
      "deposit_final",
      "The deposit is already succeeded and cannot be cancelled",
      [],
      true,
    );
    expect(err.message).toBe(en["portalError.deposit_final"]);
    expect(err.serverMessage).toContain("already succeeded");
    setLocale("zh");
    expect(err.message).toBe(zh["portalError.deposit_final"]);
    // A code the portal has no words for yet: the generic text (by status), never the server's.
    expect(new ApiError(409, "brand_new_code", "English words", [], true).message).toBe(
      zh["portalError.generic"],
    );
    expect(new ApiError(502, "brand_new_code", "English words", [], true).message).toBe(zh["error.server"]);
  });

  it("words field issues by their path", () => {
    configureLocales(ALL_LOCALES);
    setLocale("zh");
    const err = new ApiError(
      400,
      "validation_failed",
      "The deposit request is invalid",
      [
        { path: "amount", message: "The minimum amount is 10.00 USD" },
        { path: "body.fields.custom_1", message: "Name on card is required" },
        { path: "methodId", message: "This deposit method is currently not available" },
        { path: "body.language", message: "must be a language tag" },
      ],
      true,
    );
    expect(err.issues.map((i) => [i.path, i.message])).toEqual([
      ["amount", zh["portalIssue.amount"]],
      ["body.fields.custom_1", zh["portalIssue.fields"]],
      ["methodId", zh["portalIssue.methodId"]],
      ["body.language", zh["portalIssue.generic"]],
    ]);
    expect(err.serverIssues[0]?.message).toBe("The minimum amount is 10.00 USD");
  });

  it("keeps the server's own words in the back office", () => {
    const err = new ApiError(400, "validation_failed", "currencies.0.min is too large", [
      { path: "body.currencies.0.min", message: "must be at most max" },
    ]);
    expect(err.message).toBe("currencies.0.min is too large");
    expect(err.issues[0]?.message).toBe("must be at most max");
  });
});
