import { readFileSync } from "node:fs";
import { parseFlatJson, parseStatusAnswer, sign, signStatusQuery, stringA, verify } from "@psphub/protocol";
import { describe, expect, it } from "vitest";
import vectorsFile from "../../protocol/test-fixtures/signature-vectors.json" with { type: "json" };

// docs/integrating.md shows worked examples; they must stay equal to the vectors they quote.
const doc = readFileSync(new URL("../../../docs/integrating.md", import.meta.url), "utf8");
const vector = (name: string) => vectorsFile.vectors.find((v) => v.name === name)!;

describe("docs/integrating.md", () => {
  it("works the api2-sample vector exactly", () => {
    const v = vector("api2-sample");
    expect(doc).toContain(`StringA = ${v.string_a}\n`);
    expect(doc).toContain(`sign    = SHA1(StringB) = ${v.sign}\n`);
    expect(doc).toContain(`printf '%s' '${v.string_a}${v.token}'`);
    expect(doc).toContain(`# ${v.sign}`);
    // The body shown, with its sign, is the vector's body with the vector's sign.
    const shown = /```json\n(\{"merchant_id":"f23eb[\s\S]*?)\n```/.exec(doc)![1]!.replace(/\n /g, "");
    const { params, literals } = parseFlatJson(shown);
    expect(params.sign).toBe(v.sign);
    expect(stringA(params, { literals })).toBe(v.string_a);
  });

  it("shows the api1-sample body with its correct sign", () => {
    const v = vector("api1-sample");
    const shown = /```json\n(\{"merchant_id":"136421f3[\s\S]*?)\n```/.exec(doc)![1]!.replace(/\n /g, "");
    const { params, literals } = parseFlatJson(shown);
    expect(params.sign).toBe(v.sign);
    expect(sign(params, v.token, { literals })).toBe(v.sign);
  });

  it("shows an API-1 body in psphub's formats (32-hex merchant_id, 12-character order_no) with its correct sign", () => {
    const token = /`order_no`; token `([A-Za-z0-9_-]{43})`\)/.exec(doc)![1]!;
    const shown = /```json\n(\{"merchant_id":"7c92[\s\S]*?)\n```/.exec(doc)![1]!.replace(/\n /g, "");
    const { params, literals } = parseFlatJson(shown);
    expect(params.merchant_id).toMatch(/^[0-9a-f]{32}$/);
    expect(params.order_no).toMatch(/^[0-9a-z]{12}$/);
    const { sign: given, ...signed } = params;
    expect(sign(signed, token, { literals })).toBe(given);
  });

  it("prints the CLI output of the float-literal vector", () => {
    const v = vector("float-literal-as-written");
    expect(doc).toContain(`# StringA:                  ${v.string_a}\n`);
    expect(doc).toContain(`# sign:                     ${v.sign}\n`);
    expect(doc).toContain(`# sign (parsed numbers):    ${v.sign_from_parsed_numbers}\n`);
  });

  it("shows an API-3 query with its StringA and sign, and an answer whose data is the api2-sample body", () => {
    const v = vector("api2-sample");
    const shown = /```json\n(\{"merchant_id":"f23eb[^\n]*"time":\d+,\n[\s\S]*?)\n```/
      .exec(doc)![1]!
      .replace(/\n /g, "");
    const query = JSON.parse(shown) as { merchant_id: string; order_no: string; time: number; sign: string };
    const signed = signStatusQuery(
      { merchantId: query.merchant_id, orderNo: query.order_no, time: query.time },
      v.token,
    );
    expect(query).toEqual(signed);
    const { sign: _sign, ...params } = signed;
    expect(doc).toContain(`StringA\n\`${stringA(params)}\``);
    const answer = /```json\n(\{"result":true[\s\S]*?)\n```/.exec(doc)![1]!.replace(/\n /g, "");
    const parsed = parseStatusAnswer(answer);
    const data = parsed.kind === "found" ? parseFlatJson(parsed.dataText).params : {};
    expect({ ...data }).toEqual({ ...parseFlatJson(v.body).params, sign: v.sign });
    expect(parsed.kind === "found" && verify(parsed.dataText, v.token)).toBe(true);
    expect(parseStatusAnswer(/```json\n(\{"result":false[^\n]*)\n```/.exec(doc)![1]!).kind).toBe("not_found");
  });

  it("shows the api4-sample and api5-sample bodies in its payouts section, and the SDK's payout handlers", () => {
    const payouts = doc.slice(doc.indexOf('<a id="payouts"></a>'), doc.indexOf("## Token rotation"));
    for (const name of ["api4-sample", "api5-sample"]) {
      const v = vector(name);
      expect(payouts).toContain(`\`\`\`json\n${v.body}\n\`\`\``);
      expect(verify(v.body, v.token)).toBe(true);
    }
    expect(payouts).toContain(`with token \`${vector("api4-sample").token}\``);
    for (const name of [
      "createPayoutRequestHandler",
      "oncePerPayout",
      "sendPayoutCallback",
      "createPayoutStatusHandler",
    ])
      expect(payouts).toContain(`sdk.${name}(`);
  });
});
