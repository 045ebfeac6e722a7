import type { CaseResult, CertifyReport, Exchange } from "./certify-case.js";

/**
 * The certify report as a standalone HTML page (pure), for the back office: every case with its
 * verdict, what was seen, what to fix, and each exchange (request, StringA, answer, timing).
 * Everything from the backend is escaped; the page loads nothing and runs no script.
 */

const esc = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const when = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");

function exchangeHtml(e: Exchange): string {
  const head =
    e.direction === "from_backend"
      ? `Callback from the backend → ${esc(e.request.url)}`
      : `${esc(e.request.method)} ${esc(e.request.url)}`;
  const headers = Object.entries(e.request.headers)
    .map(([k, v]) => `${esc(k)}: ${esc(v)}`)
    .join("\n");
  const answer =
    "status" in e.response
      ? `${e.direction === "from_backend" ? "The suite answered" : "Answer"} HTTP ${e.response.status}${e.direction === "from_backend" ? "" : ` in ${e.response.ms} ms`}\n${esc(e.response.body)}`
      : `No answer after ${e.response.ms} ms: ${esc(e.response.error)}`;
  return `<div class="x"><div class="xh">${head}</div><pre>${headers}\n\n${esc(e.request.body)}</pre>${
    e.request.stringA ? `<div class="sa">StringA: <code>${esc(e.request.stringA)}</code></div>` : ""
  }<pre>${answer}</pre></div>`;
}

function caseHtml(c: CaseResult): string {
  const tag = c.verdict === "skipped" && c.notApplicable ? "n/a" : c.verdict;
  return `<section class="case ${esc(c.verdict)}" id="${esc(c.id)}"><h2><span class="v">${esc(tag)}</span> <code>${esc(c.id)}</code> ${esc(c.title)}</h2>
<p>${esc(c.detail)}</p>${c.fix ? `<p class="fix"><strong>What to fix:</strong> ${esc(c.fix)}</p>` : ""}
${c.exchanges.length ? `<details${c.verdict === "failed" ? " open" : ""}><summary>${c.exchanges.length} exchange${c.exchanges.length === 1 ? "" : "s"}</summary>${c.exchanges.map(exchangeHtml).join("")}</details>` : ""}</section>`;
}

export function reportHtml(r: CertifyReport, title: string): string {
  const { passed, failed, skipped } = r.counts;
  const verdict = r.certified ? "Certified: every mandatory case passed" : "Not certified";
  const rows = r.cases
    .map(
      (c) =>
        `<tr class="${esc(c.verdict)}"><td><a href="#${esc(c.id)}"><code>${esc(c.id)}</code></a></td><td>${esc(c.api)}</td><td>${esc(c.verdict === "skipped" && c.notApplicable ? "n/a" : c.verdict)}</td><td>${esc(c.detail)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}h2{font-size:1rem;margin:0 0 .4rem}
.verdict{font-weight:600;padding:.5rem .8rem;border-radius:6px;display:inline-block}
.yes{background:#dff5e3;color:#0b5d1e}.no{background:#fde2e1;color:#8a1c14}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
.case{border:1px solid #e3e6ea;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.failed .v{background:#fde2e1;color:#8a1c14}.passed .v{background:#dff5e3;color:#0b5d1e}.skipped .v{background:#eef0f3;color:#444}
.v{padding:.1rem .4rem;border-radius:4px;font-size:.8rem;text-transform:uppercase}
tr.failed td:nth-child(3){color:#8a1c14;font-weight:600}td:nth-child(2){white-space:nowrap}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;margin:.3rem 0}
.x{margin:.6rem 0}.xh{font-weight:600}.sa{font-size:.85rem}.fix{background:#fff8e1;padding:.4rem .6rem;border-radius:4px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>${esc(r.target.appUrl)} · merchant_id <code>${esc(r.target.merchantId)}</code> · ${esc(when(r.startedAt))} · ${((r.finishedAt - r.startedAt) / 1000).toFixed(1)} s</p>
<p class="verdict ${r.certified ? "yes" : "no"}">${esc(verdict)}</p>
<p>${passed} passed, ${failed} failed, ${skipped} skipped (n/a: does not apply to this integration)</p>
<table><thead><tr><th>case</th><th>API</th><th>verdict</th><th>what was seen</th></tr></thead><tbody>
${rows}
</tbody></table>
${r.cases.map(caseHtml).join("\n")}
<p>The cases are described in the project's docs/certify.md. The token never appears in this report.</p>
</body></html>
`;
}
