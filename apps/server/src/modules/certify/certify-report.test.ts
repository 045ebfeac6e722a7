import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { caseLine, junitXml, summaryLine } from "./certify-report.js";
import { reportHtml } from "./certify-report-html.js";
import { CERTIFY_CASES, type CertifyReport } from "./certify-suite.js";

const doc = readFileSync(new URL("../../../../../docs/certify.md", import.meta.url), "utf8");

const report: CertifyReport = {
  target: { appUrl: "https://pay.example.com", merchantId: "m<1>" },
  startedAt: Date.UTC(2026, 11, 5),
  finishedAt: Date.UTC(2026, 11, 5) + 1234,
  cases: [
    {
      id: "api1.answer",
      title: "API-1 answers",
      api: "API-1",
      mandatory: true,
      verdict: "failed",
      detail: 'no payment URL: HTTP 500 & "x"',
      fix: "Answer <200>",
      exchanges: [
        {
          request: {
            method: "POST",
            url: "https://pay.example.com/pay/url",
            headers: {},
            body: "{}",
            stringA: "a=1",
          },
          response: { status: 500, body: "oops\u0001", ms: 12 },
        },
      ],
    },
    {
      id: "api3.known_order",
      title: "API-3",
      api: "API-3",
      mandatory: true,
      verdict: "skipped",
      detail: "off",
      exchanges: [],
    },
  ],
  counts: { passed: 0, failed: 1, skipped: 1 },
  certified: false,
};

describe("the certify report", () => {
  it("prints a failure with its fix, and the closing count", () => {
    expect(caseLine(report.cases[0]!)).toBe(
      'failed  api1.answer            API-1 answers: no payment URL: HTTP 500 & "x"\n        fix: Answer <200>',
    );
    expect(summaryLine(report)).toBe("0 passed, 1 failed, 1 skipped: NOT certified: a mandatory case failed");
  });

  it("writes well-formed JUnit XML: escaped text, a failure and a skipped case, the exchanges as output", () => {
    const x = junitXml(report);
    expect(x).toContain(
      '<testsuite name="psphub certify m&lt;1&gt;" tests="2" failures="1" skipped="1" time="1.234"',
    );
    expect(x).toContain(
      '<failure message="no payment URL: HTTP 500 &amp; &quot;x&quot;">Answer &lt;200&gt;</failure>',
    );
    expect(x).toContain('<skipped message="off"/>');
    expect(x).toContain("StringA: a=1");
    expect(x).not.toContain("\u0001");
  });

  it("renders the HTML page with everything from the backend escaped", () => {
    const hostile: CertifyReport = {
      ...report,
      cases: [
        {
          ...report.cases[0]!,
          detail: '<script>alert("x")</script>',
          exchanges: [
            {
              direction: "from_backend",
              request: {
                method: "POST",
                url: "CRM_Callback_URL/pay/callback",
                headers: {},
                body: "<img src=x onerror=alert(1)>",
              },
              response: { status: 204, body: "", ms: 0 },
            },
          ],
        },
        report.cases[1]!,
      ],
    };
    const html = reportHtml(hostile, "t <b>");
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("<title>t &lt;b&gt;</title>");
    expect(html).toContain("Not certified");
    expect(html).toContain("Callback from the backend");
    expect(html).toContain("What to fix:</strong> Answer &lt;200&gt;");
  });

  it("is documented case by case in docs/certify.md", () => {
    for (const c of CERTIFY_CASES) expect(doc).toContain(`| \`${c.id}\` | ${c.api} |`);
  });
});
