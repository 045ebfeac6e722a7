import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFlatJson } from "./flat-json.js";
import { verify } from "./signature.js";
import { ORDER_NOT_FOUND, parseStatusAnswer, signStatusQuery } from "./status-query.js";
import { flatKey, RUNS, wildString } from "./test-arbitraries.js";

const TOKEN = "a".repeat(32);

describe("signStatusQuery", () => {
  it("signs merchant_id, order_no and time with the token, as API-2 is signed", () => {
    const body = signStatusQuery({ merchantId: "m1", orderNo: "D123", time: 1_700_000_000_000 }, TOKEN);
    expect(body).toMatchObject({ merchant_id: "m1", order_no: "D123", time: 1_700_000_000_000 });
    const { sign, ...params } = body;
    expect(verify(params, TOKEN, sign)).toBe(true);
    expect(verify({ ...params, order_no: "D124" }, TOKEN, sign)).toBe(false);
    expect(verify(params, "b".repeat(32), sign)).toBe(false);
  });
});

describe("parseStatusAnswer", () => {
  it("returns data as its raw text, so a number keeps the literal it was signed with", () => {
    const text = '{"result":true,"msg":"ok","data":{"order_no":"D1","amount":100.10,"status":1}}';
    const a = parseStatusAnswer(text);
    expect(a).toEqual({ kind: "found", dataText: '{"order_no":"D1","amount":100.10,"status":1}' });
    if (a.kind !== "found") return;
    expect(parseFlatJson(a.dataText).literals.amount).toBe("100.10");
  });

  it("finds data among other members, in any order and spacing, with nested values before it", () => {
    const text =
      ' {\n "msg" : "a,}{\\"" , "extra":{"x":[1,{"y":"}"}]},\t"data" :\n{ "k" : "v" } , "result" : true }\n';
    expect(parseStatusAnswer(text)).toEqual({ kind: "found", dataText: '{ "k" : "v" }' });
  });

  it("reads order_not_found, and refuses every other shape as a failed query", () => {
    expect(
      parseStatusAnswer(`{"result":false,"msg":"no such order","data":{"code":"${ORDER_NOT_FOUND}"}}`),
    ).toEqual({
      kind: "not_found",
      msg: "no such order",
    });
    const invalid = [
      "",
      "not json",
      "[1,2]",
      "null",
      '{"result":"true","data":{}}',
      '{"result":true}',
      '{"result":true,"data":[]}',
      '{"result":true,"data":"{}"}',
      '{"result":false,"data":{"code":"busy"}}',
      '{"result":true,"data":{"a":1},"data":{"a":2}}',
      '{"data":{"a":1},"d\\u0061ta":{"a":2},"result":true}',
    ];
    for (const text of invalid) expect(parseStatusAnswer(text).kind, text).toBe("invalid");
  });

  it("round-trips any flat data object through the answer, whatever surrounds it", () => {
    const flat = fc.dictionary(
      flatKey,
      fc.oneof(wildString(), fc.integer(), fc.boolean(), fc.constant(null)),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(
        flat,
        flat,
        fc.constantFrom("", " ", "\n\t "),
        fc.boolean(),
        (data, extra, ws, dataFirst) => {
          const dataText = JSON.stringify(data);
          const members = [`"result"${ws}:${ws}true`, `"extra"${ws}:${ws}${JSON.stringify(extra)}`];
          members.splice(dataFirst ? 0 : 2, 0, `"data"${ws}:${ws}${dataText}`);
          const a = parseStatusAnswer(`{${ws}${members.join(`${ws},${ws}`)}${ws}}`);
          expect(a).toEqual({ kind: "found", dataText });
        },
      ),
      RUNS,
    );
  });
});
