import { describe, expect, it } from "vitest";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";
import { interpretStatusResponse, statusQueryUrl } from "./status-query-request.js";

const ok = (bodyText: string, status = 200): GuardedResponse => ({
  ok: true,
  status,
  headers: {},
  bodyText,
  latencyMs: 1,
});

describe("API-3 request and answer", () => {
  it("the URL keeps APP_URL's path prefix, with or without a trailing slash", () => {
    expect(statusQueryUrl("https://b.example/api/")).toBe("https://b.example/api/pay/status");
    expect(statusQueryUrl("https://b.example")).toBe("https://b.example/pay/status");
  });

  it("reads found, not found and every failure", () => {
    expect(interpretStatusResponse(ok('{"result":true,"data":{"a":100.10}}'))).toEqual({
      kind: "found",
      dataText: '{"a":100.10}',
      httpStatus: 200,
    });
    expect(interpretStatusResponse(ok('{"result":false,"data":{"code":"order_not_found"}}')).kind).toBe(
      "not_found",
    );
    expect(interpretStatusResponse(ok("x", 502))).toMatchObject({
      kind: "failed",
      reason: "http_status_502",
    });
    expect(interpretStatusResponse(ok("x"))).toMatchObject({
      kind: "failed",
      reason: "invalid_answer: the answer is not JSON",
    });
    expect(interpretStatusResponse({ ok: false, reason: "timeout", detail: "", latencyMs: 1 })).toMatchObject(
      { kind: "failed", reason: "timeout", bodyText: null },
    );
    expect(
      interpretStatusResponse({ ok: false, reason: "connection_refused", detail: "", latencyMs: 1 }),
    ).toMatchObject({ kind: "failed", reason: "connect_failed: connection_refused" });
  });
});
