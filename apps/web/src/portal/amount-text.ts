/**
 * Amounts as a client types them, in their locale, to the plain decimal text the API takes
 * ("1000.5": digits, optionally a dot and digits; docs/psp-open-api.md#deposit-creation), and
 * back. Pure text work: no amount ever passes through a float.
 *
 * Accepted: the locale's own grouping and decimal separators (learned from
 * `Intl.NumberFormat(locale).formatToParts`), the other common spellings a client copies or
 * types ("1,000.00" and "1.000,00" alike, "25,50" where the comma groups, spaces or
 * apostrophes as grouping), and native digits (Arabic-Indic, full-width). Refused: signs,
 * exponents, letters, a separator that cannot be read one way only.
 */

export type LocaleSeparators = { decimal: string; group: string };

const separatorCache = new Map<string, LocaleSeparators>();

/** The decimal and grouping separators `locale` writes numbers with ("." and "," for en). */
export function separatorsOf(locale: string): LocaleSeparators {
  const kept = separatorCache.get(locale);
  if (kept) return kept;
  let decimal = ".";
  let group = ",";
  try {
    // An integer-valued sample (no rounding question) with a fraction forced on: 1234567.0.
    const parts = new Intl.NumberFormat(locale, {
      minimumFractionDigits: 1,
      useGrouping: true,
    }).formatToParts(1234567);
    decimal = parts.find((p) => p.type === "decimal")?.value ?? decimal;
    group = parts.find((p) => p.type === "group")?.value ?? group;
  } catch {
    // An unknown locale tag: the defaults above.
  }
  const seps = { decimal, group };
  separatorCache.set(locale, seps);
  return seps;
}

/** Native decimal digits (Arabic-Indic, Eastern Arabic-Indic, full-width) as ASCII. */
function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06f0-\u06f9\uff10-\uff19]/g, (c) => {
    const code = c.charCodeAt(0);
    const zero = code >= 0xff10 ? 0xff10 : code >= 0x06f0 ? 0x06f0 : 0x0660;
    return String(code - zero);
  });
}

// Spaces of every width and apostrophes group digits in many locales (fr, de-CH, …).
const SPACE_GROUP = /[\s\u00a0\u2007\u2009\u202f'\u2019]/;
// The Arabic decimal and thousands separators.
const AR_DECIMAL = "\u066b";
const AR_GROUP = "\u066c";

/** Grouped integer digits: a first group of 1–3 digits, then groups of 2 or 3 (en-IN lakhs), the last of 3. */
function ungroup(groups: string[]): string | null {
  if (groups.length === 1) return /^\d+$/.test(groups[0] ?? "") ? (groups[0] ?? null) : null;
  const [first = "", ...rest] = groups;
  if (!/^\d{1,3}$/.test(first)) return null;
  for (let i = 0; i < rest.length; i++) {
    const g = rest[i] ?? "";
    const last = i === rest.length - 1;
    if (!(last ? /^\d{3}$/ : /^\d{2,3}$/).test(g)) return null;
  }
  return groups.join("");
}

/** "007" → "7", "" → "0"; a fraction keeps its digits as typed ("25.50"), a bare "10." loses the dot. */
function canonical(whole: string, fraction: string | null): string {
  const w = whole.replace(/^0+(?=\d)/, "") || "0";
  return fraction === null || fraction === "" ? w : `${w}.${fraction}`;
}

/**
 * What the client typed, as plain decimal text, or null when it is not an amount. `locale`
 * decides only the ambiguous case of one separator followed by exactly three digits
 * ("1,000" is a thousand in en, one in de).
 */
export function parseAmountText(input: string, locale: string): string | null {
  const localeDecimal = separatorsOf(locale).decimal;
  let text = asciiDigits(input.trim()).replaceAll(AR_DECIMAL, ".").replaceAll(AR_GROUP, ",");
  const dec = localeDecimal === AR_DECIMAL ? "." : localeDecimal;
  if (text === "" || text.length > 60) return null;
  // Spaces and apostrophes only ever group: their groups are checked like any other's.
  text = text.replace(new RegExp(SPACE_GROUP.source, "g"), " ");
  if (!/^[\d., ]+$/.test(text) || !/\d/.test(text)) return null;
  if (/^ | $| {2}/.test(text)) return null;

  const dots = text.split(".").length - 1;
  const commas = text.split(",").length - 1;
  let decimalMark: "." | "," | null = null;
  if (dots > 0 && commas > 0) {
    // Both: the last one written is the decimal mark ("1,000.00", "1.000,00").
    decimalMark = text.lastIndexOf(".") > text.lastIndexOf(",") ? "." : ",";
    const other = decimalMark === "." ? "," : ".";
    if (text.split(decimalMark).length - 1 !== 1 || text.lastIndexOf(other) > text.indexOf(decimalMark))
      return null;
  } else if (dots + commas === 1) {
    // One mark: the locale's decimal mark is one; another followed by exactly three digits
    // groups ("1,000" in en, "1.000" in de); anything else is a decimal mark ("25,50" in en).
    const mark = dots === 1 ? "." : ",";
    const after = text.slice(text.indexOf(mark) + 1);
    decimalMark = mark !== dec && /^\d{3}$/.test(after) ? null : mark;
  } else if (dots + commas > 1) {
    // One kind, several times: grouping only ("1,000,000"; "1.000.000").
    decimalMark = null;
  }

  let wholeText = text;
  let fraction: string | null = null;
  if (decimalMark !== null) {
    const at = text.lastIndexOf(decimalMark);
    wholeText = text.slice(0, at);
    fraction = text.slice(at + 1);
    if (!/^\d*$/.test(fraction)) return null;
  }
  if (wholeText === "" && (fraction === null || fraction === "")) return null;
  const groups = wholeText === "" ? ["0"] : wholeText.split(/[., ]/);
  const whole = ungroup(groups);
  if (whole === null) return null;
  return canonical(whole, fraction);
}

/**
 * Plain decimal text ("1234.5") written in `locale` ("1,234.5" in en, "1.234,5" in de): for
 * prefilling the amount field. The digits stay ASCII, which every locale's parse reads back.
 */
export function formatAmountText(plain: string, locale: string): string {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(plain);
  if (!m) return plain;
  const { decimal, group } = separatorsOf(locale);
  const whole = (m[1] ?? "").replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return m[2] === undefined ? whole : `${whole}${decimal}${m[2]}`;
}
