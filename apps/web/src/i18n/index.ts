import { useSyncExternalStore } from "react";
import { ar } from "./ar.js";
import { en } from "./en.js";
import { chooseLocale, LOCALES, type LocaleInfo, type LocaleTag } from "./locales.js";
import type { MessageKey, Messages } from "./messages.js";
import { zh } from "./zh.js";

/**
 * Every text the apps show comes from one dictionary per language (en.ts, zh.ts, ar.ts; the
 * type in messages.ts makes each hold every English key). The current language lives in a
 * small store: chosen once at start (configureLocales: the client's remembered choice, then
 * the browser's languages, then English), changed by the switcher (setLocale), read by t(),
 * and followed by React through useLocale(). It also sets `<html lang dir>`, which Mantine's
 * DirectionProvider watches for right-to-left layout.
 */
export type { MessageKey };

const DICTIONARIES: Readonly<Record<LocaleTag, Messages>> = { en, zh, ar };
const STORAGE_KEY = "psphub.locale";

let available: readonly LocaleTag[] = ["en"];
let current: LocaleTag = "en";
const listeners = new Set<() => void>();

function readStored(): string | null {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, blocked cookies)
  }
}

function browserLanguages(): readonly string[] {
  const nav = globalThis.navigator as Navigator | undefined;
  if (!nav) return [];
  return nav.languages?.length ? nav.languages : nav.language ? [nav.language] : [];
}

function applyToDocument(): void {
  if (typeof document === "undefined") return;
  const info = LOCALES[current];
  document.documentElement.lang = info.htmlLang;
  document.documentElement.dir = info.dir;
}

/** Which languages this app offers; picks the one to start in. The back office passes ["en"]. */
export function configureLocales(offered: readonly LocaleTag[]): void {
  available = offered.length ? offered : ["en"];
  current = chooseLocale({ stored: readStored(), browser: browserLanguages(), available });
  applyToDocument();
}

/** The switcher's choice: applied at once and remembered for the next visit. */
export function setLocale(tag: LocaleTag): void {
  if (!available.includes(tag)) return;
  current = tag;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, tag);
  } catch {
    // not remembered; still applied
  }
  applyToDocument();
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const currentTag = () => current;

/** The current language; the component re-renders when it changes. */
export function useLocale(): LocaleTag {
  return useSyncExternalStore(subscribe, currentTag, currentTag);
}

export const offeredLocales = (): readonly LocaleTag[] => available;
export const localeInfo = (): LocaleInfo => LOCALES[current];

/** The Intl locale of the current language (dates, numbers, money). */
export const locale = (): string => LOCALES[current].intl;

/** The current language as API-1's `language` ("en", "zh-cn", "ar"). */
export const apiLanguage = (): string => LOCALES[current].api;

export const isMessageKey = (key: string): key is MessageKey => Object.hasOwn(en, key);

/** The text for `key`, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = DICTIONARIES[current][key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
