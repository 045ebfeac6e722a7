import type { CaseResult, CertifyReport } from "./certify-suite.js";

/**
 * The certify report's forms (pure): one line per case for a terminal, JUnit XML for CI
 * systems, JSON for everything else (the report itself).
 */

/** `passed  api1.answer  API-1 answers …: detail`, and the fix under a failure. */
export function caseLine(c: CaseResult): string {
  const head = `${c.verdict.padEnd(7)} ${c.id.padEnd(22)} ${c.title}: ${c.detail}`;
  return c.verdict === "failed" && c.fix ? `${head}\n        fix: ${c.fix}` : head;
}

/** The closing line: the counts, and whether the backend is certified. */
export function summaryLine(r: CertifyReport): string {
  const { passed, failed, skipped } = r.counts;
  const verdict = r.certified
    ? "every mandatory case passed"
    : failed > 0
      ? "NOT certified: a mandatory case failed"
      : "NOT certified: a mandatory case was skipped (see why above)";
  return `${passed} passed, ${failed} failed, ${skipped} skipped: ${verdict}`;
}

const xml = (text: string) =>
  text
    // Characters XML 1.0 cannot carry at all.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the ones replaced
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** JUnit XML: one testsuite, one testcase per case (failure or skipped), the exchanges as output. */
export function junitXml(r: CertifyReport): string {
  const cases = r.cases.map((c) => {
    const ms = c.exchanges.reduce((sum, e) => sum + e.response.ms, 0);
    const out = c.exchanges
      .map((e) => {
        const answer =
          "status" in e.response ? `HTTP ${e.response.status} ${e.response.body}` : e.response.error;
        return `${e.request.method} ${e.request.url}\n${e.request.body}\n${e.request.stringA ? `StringA: ${e.request.stringA}\n` : ""}→ ${answer} (${e.response.ms} ms)`;
      })
      .join("\n\n");
    const inner =
      c.verdict === "failed"
        ? `<failure message="${xml(c.detail)}">${xml(c.fix ?? "")}</failure>`
        : c.verdict === "skipped"
          ? `<skipped message="${xml(c.detail)}"/>`
          : "";
    return `  <testcase classname="psphub.certify.${c.api}" name="${xml(`${c.id}: ${c.title}`)}" time="${seconds(ms)}">${inner}<system-out>${xml(out)}</system-out></testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="psphub certify ${xml(r.target.merchantId)}" tests="${r.cases.length}" failures="${r.counts.failed}" skipped="${r.counts.skipped}" time="${seconds(r.finishedAt - r.startedAt)}" timestamp="${new Date(r.startedAt).toISOString()}">`,
    ...cases,
    "</testsuite>",
    "",
  ].join("\n");
}
