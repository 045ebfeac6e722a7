import { afterEach, describe, expect, it } from "vitest";
import { configureLocales, setLocale } from "../i18n/index.js";
import { ALL_LOCALES } from "../i18n/locales.js";
import { dateTime } from "./format.js";

const AT = Date.UTC(2026, 10, 26, 19, 21);

describe("dates in the current language", () => {
  afterEach(() => configureLocales(["en"]));

  it("formats in English, Chinese and Arabic, Arabic with Latin digits", () => {
    configureLocales(ALL_LOCALES);
    setLocale("en");
    expect(dateTime(AT)).toMatch(/Nov \d+, 2026/);
    setLocale("zh");
    expect(dateTime(AT)).toMatch(/2026年11月\d+日/);
    setLocale("ar");
    const ar = dateTime(AT);
    expect(ar).toMatch(/2026/);
    expect(ar).not.toMatch(/[\u0660-\u0669]/); // no Arabic-Indic digits
    expect(dateTime(null)).toBe("—");
  });
});
