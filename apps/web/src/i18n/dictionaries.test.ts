import { describe, expect, it } from "vitest";
import { ar } from "./ar.js";
import { en } from "./en.js";
import { zh } from "./zh.js";

/**
 * Every dictionary holds every English key, the same placeholders, and real translations. The
 * type checker refuses a missing key too; this names them, for whoever adds English keys.
 */
const DICTIONARIES: Record<string, Record<string, string>> = { zh, ar };
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Keys whose text is a name or code, the same in every language. */
const SAME_IN_EVERY_LANGUAGE = new Set([
  "app.adminTitle",
  "field.id",
  "integrations.appUrl",
  "callbacks.http",
  "audit.ip",
  "timeline.manual",
]);

/** The groups the client portal shows: they must really be translated. */
const PORTAL_GROUPS = [
  "app.",
  "common.",
  "field.",
  "validation.",
  "error.",
  "session.",
  "auth.portal",
  "auth.login",
  "auth.logout",
  "nav.wallets",
  "nav.deposit",
  "nav.history",
  "nav.withdraw",
  "status.",
  "wallets.",
  "deposit.",
  "track.",
  "history.",
  "language.",
  "portalError.",
  "portalIssue.",
  "portal.fx.",
  "withdraw.",
];

describe.each(Object.entries(DICTIONARIES))("the %s dictionary", (name, dict) => {
  it("has every English key and no other", () => {
    const missing = Object.keys(en).filter((k) => !Object.hasOwn(dict, k));
    const extra = Object.keys(dict).filter((k) => !Object.hasOwn(en, k));
    expect(missing, `${name}.ts lacks these keys of en.ts`).toEqual([]);
    expect(extra, `${name}.ts has keys en.ts does not`).toEqual([]);
  });

  it("keeps each text's placeholders", () => {
    const wrong = Object.entries(en)
      .filter(
        ([k, text]) =>
          Object.hasOwn(dict, k) && placeholders(dict[k] ?? "").join() !== placeholders(text).join(),
      )
      .map(([k]) => k);
    expect(wrong, `${name}.ts texts whose {placeholders} differ from en.ts`).toEqual([]);
  });

  it("translates every text the portal shows", () => {
    const script = name === "zh" ? /\p{Script=Han}/u : /\p{Script=Arabic}/u;
    const untranslated = Object.keys(en)
      .filter((k) => PORTAL_GROUPS.some((g) => k.startsWith(g)) && !SAME_IN_EVERY_LANGUAGE.has(k))
      .filter((k) => !script.test(dict[k] ?? ""));
    expect(untranslated, `${name}.ts portal texts not written in its script`).toEqual([]);
  });
});
