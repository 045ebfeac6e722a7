import { en } from "./en.js";

/**
 * Every text the apps show comes from one dictionary per language. English is the only one
 * today; a second language is one more file with the same keys (the type below enforces that)
 * and a choice of dictionary here.
 */
export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;

const current: Messages = en;
const currentLocale = "en";

export const locale = (): string => currentLocale;

/** The text for `key`, with `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text = current[key] ?? en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}
