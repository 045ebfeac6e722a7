/**
 * Shows a tenant's raw text to staff with every invisible character made visible as `\u{…}`:
 * bidi controls (U+202E reorders what follows), zero-width and other format characters (Cf),
 * control characters (Cc) other than line breaks and tabs, separators (Zl, Zp) and lone
 * surrogates. Raw bodies are evidence, so they are escaped rather than stripped, and never
 * reordered on screen. The server strips the same characters from the messages it shows
 * (`cleanTenantText` in @psphub/protocol).
 */
const INVISIBLE = /[\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]|(?![\n\t])\p{Cc}/gu;

export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`);
}
