/**
 * The languages the apps ship and how one is chosen (pure, no browser access: the store in
 * index.ts passes what it read). The back office offers English only; the portal all three.
 */
export type LocaleTag = "en" | "zh" | "ar";

export interface LocaleInfo {
  tag: LocaleTag;
  /** The language's own name: what a reader of it looks for in the switcher, in every dictionary. */
  nativeName: string;
  /** `<html lang>`: also picks the right fonts for Han characters. */
  htmlLang: string;
  /**
   * The Intl locale of dates, numbers and money. Arabic uses Latin digits (`-u-nu-latn`), as
   * payment pages, bank statements and the amounts clients type do; some ICU data would
   * otherwise give Arabic-Indic digits for `ar`.
   */
  intl: string;
  /** The `language` sent to API-1: lower case, like the clients' stored language. */
  api: string;
  dir: "ltr" | "rtl";
}

export const LOCALES: Readonly<Record<LocaleTag, LocaleInfo>> = {
  en: { tag: "en", nativeName: "English", htmlLang: "en", intl: "en", api: "en", dir: "ltr" },
  zh: { tag: "zh", nativeName: "简体中文", htmlLang: "zh-CN", intl: "zh-CN", api: "zh-cn", dir: "ltr" },
  ar: { tag: "ar", nativeName: "العربية", htmlLang: "ar", intl: "ar-u-nu-latn", api: "ar", dir: "rtl" },
};

export const ALL_LOCALES: readonly LocaleTag[] = ["en", "zh", "ar"];

export const isLocaleTag = (v: unknown): v is LocaleTag => typeof v === "string" && Object.hasOwn(LOCALES, v);

/** Chinese written in Traditional characters: not what the Simplified dictionary offers. */
const TRADITIONAL = new Set(["hant", "tw", "hk", "mo"]);

/** The shipped locale a browser language tag ("zh-CN", "ar-EG", "en_GB") asks for, if any. */
export function matchLanguage(tag: string, available: readonly LocaleTag[]): LocaleTag | null {
  const [language = "", ...rest] = tag.trim().toLowerCase().split(/[-_]/);
  if (language === "zh" && !rest.includes("hans") && rest.some((p) => TRADITIONAL.has(p))) return null;
  return available.find((a) => a === language) ?? null;
}

/**
 * The client's own choice when it is still offered, else the first browser language we ship
 * (in the browser's order of preference), else English.
 */
export function chooseLocale(input: {
  stored: string | null;
  browser: readonly string[];
  available: readonly LocaleTag[];
}): LocaleTag {
  const { stored, browser, available } = input;
  if (isLocaleTag(stored) && available.includes(stored)) return stored;
  for (const b of browser) {
    const match = matchLanguage(b, available);
    if (match) return match;
  }
  return available.includes("en") ? "en" : (available[0] ?? "en");
}
