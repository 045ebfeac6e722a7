import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiLanguage, configureLocales, locale, setLocale, t } from "./index.js";
import { ALL_LOCALES, chooseLocale, type LocaleTag, matchLanguage } from "./locales.js";

const tagArb = fc.constantFrom<LocaleTag>(...ALL_LOCALES);
const browserTag = fc.constantFrom(
  "en-US",
  "en",
  "zh-CN",
  "zh",
  "zh-Hans-SG",
  "zh-TW",
  "zh-Hant",
  "ar-EG",
  "ar",
  "de-DE",
  "fr",
  "ja",
);

describe("choosing the language", () => {
  it("matches browser tags by language, never Traditional Chinese to the Simplified dictionary", () => {
    expect(matchLanguage("zh-CN", ALL_LOCALES)).toBe("zh");
    expect(matchLanguage("zh_SG", ALL_LOCALES)).toBe("zh");
    expect(matchLanguage("zh-Hans-HK", ALL_LOCALES)).toBe("zh");
    expect(matchLanguage("zh-TW", ALL_LOCALES)).toBeNull();
    expect(matchLanguage("zh-Hant", ALL_LOCALES)).toBeNull();
    expect(matchLanguage("ar-EG", ALL_LOCALES)).toBe("ar");
    expect(matchLanguage("EN-gb", ALL_LOCALES)).toBe("en");
    expect(matchLanguage("de-DE", ALL_LOCALES)).toBeNull();
    expect(matchLanguage("ar", ["en"])).toBeNull();
  });

  it("takes the remembered choice first, then the browser's languages in order, then English", () => {
    expect(chooseLocale({ stored: "ar", browser: ["zh-CN"], available: ALL_LOCALES })).toBe("ar");
    expect(
      chooseLocale({ stored: null, browser: ["de-DE", "zh-TW", "ar-MA", "zh-CN"], available: ALL_LOCALES }),
    ).toBe("ar");
    expect(chooseLocale({ stored: "klingon", browser: ["fr"], available: ALL_LOCALES })).toBe("en");
    // The back office offers English alone: a portal choice in the same browser never reaches it.
    expect(chooseLocale({ stored: "zh", browser: ["ar"], available: ["en"] })).toBe("en");
  });

  it("always lands on an offered language, and a remembered offered one always wins", () => {
    fc.assert(
      fc.property(
        fc.option(fc.oneof(tagArb, fc.string()), { nil: null }),
        fc.array(browserTag, { maxLength: 5 }),
        fc.uniqueArray(tagArb, { minLength: 1 }),
        (stored, browser, available) => {
          const chosen = chooseLocale({ stored, browser, available });
          expect(available).toContain(chosen);
          if (stored !== null && (available as string[]).includes(stored)) expect(chosen).toBe(stored);
        },
      ),
    );
  });
});

describe("the language store", () => {
  it("switches t(), the Intl locale and API-1's language together, only among offered languages", () => {
    configureLocales(ALL_LOCALES);
    setLocale("en");
    expect([t("auth.login"), locale(), apiLanguage()]).toEqual(["Log in", "en", "en"]);
    setLocale("zh");
    expect([t("auth.login"), locale(), apiLanguage()]).toEqual(["登录", "zh-CN", "zh-cn"]);
    expect(t("wallets.walletOf", { currency: "USD" })).toBe("USD 钱包");
    setLocale("ar");
    expect([t("auth.login"), locale(), apiLanguage()]).toEqual(["تسجيل الدخول", "ar-u-nu-latn", "ar"]);
    configureLocales(["en"]);
    setLocale("ar");
    expect(t("auth.login")).toBe("Log in");
  });
});
