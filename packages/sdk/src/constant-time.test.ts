import { constantTimeEquals, verifyDetailed } from "@psphub/protocol";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createApi1Handler } from "./api1-handler.js";
import { SAMPLE_ORDER, signedApi1Body } from "./test-support.js";

// docs/failure-modes.md#failure-mode-13: the API-1 handler compares the crm-pay-token header in constant
// time with EVERY configured token (no early exit telling which one matched), and checks the
// sign through the protocol's verifyDetailed (a constant-time compare, tested in
// @psphub/protocol) with the token the header matched. A plain `===` fails these tests.

vi.mock("@psphub/protocol", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@psphub/protocol")>();
  return {
    ...actual,
    constantTimeEquals: vi.fn(actual.constantTimeEquals),
    verifyDetailed: vi.fn(actual.verifyDetailed),
  };
});

const NEW = "new-token-0123456789abcdef";
const OLD = "old-token-0123456789abcdef";
const handler = createApi1Handler({
  tokens: [NEW, OLD],
  onPaymentRequest: (req) => ({ url: `https://pay.example.com/p/${req.orderNo}` }),
  onReject: () => {},
});
const post = (body: string, header: string) =>
  handler.handle({ headers: { "crm-pay-token": header }, rawBody: body });

beforeEach(() => {
  vi.mocked(constantTimeEquals).mockClear();
  vi.mocked(verifyDetailed).mockClear();
});

describe("constant-time checks of the API-1 handler", () => {
  it("compares the header with both tokens even when the first one matches", async () => {
    expect((await post(signedApi1Body(SAMPLE_ORDER, NEW), NEW)).status).toBe(200);
    expect(vi.mocked(constantTimeEquals).mock.calls).toEqual([
      [NEW, NEW],
      [NEW, OLD],
    ]);
    expect(vi.mocked(verifyDetailed).mock.calls.map((c) => c[1])).toEqual([NEW]);
  });

  it("verifies the sign with the token the header matched", async () => {
    expect((await post(signedApi1Body(SAMPLE_ORDER, OLD), OLD)).status).toBe(200);
    expect(vi.mocked(constantTimeEquals).mock.calls).toHaveLength(2);
    expect(vi.mocked(verifyDetailed).mock.calls.map((c) => c[1])).toEqual([OLD]);
  });

  it("refuses a wrong header after comparing it with every token, without checking the sign", async () => {
    const res = await post(signedApi1Body(SAMPLE_ORDER, NEW), "wrong-token");
    expect(res.status).toBe(401);
    expect(vi.mocked(constantTimeEquals).mock.calls).toEqual([
      ["wrong-token", NEW],
      ["wrong-token", OLD],
    ]);
    expect(verifyDetailed).not.toHaveBeenCalled();
  });
});
