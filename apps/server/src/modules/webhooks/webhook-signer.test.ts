import { newWebhookSecret, signWebhook } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WebhookSigner } from "./webhook-signer.js";

// The Standard Webhooks reference vector (packages/protocol/test-fixtures/standard-webhooks-vectors.json).
const REF = {
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
};

describe("WebhookSigner", () => {
  it("reproduces the reference signature", () => {
    expect(new WebhookSigner((s) => s).sign(REF, [REF.secret])).toBe(REF.signature);
  });

  it("signs exactly as @psphub/protocol's signWebhook, for any message and one or two secrets", async () => {
    const secrets = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    const signer = new WebhookSigner((s) => s);
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^msg_[A-Za-z0-9_-]{1,40}$/),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.subarray(secrets, { minLength: 1, maxLength: 2 }),
        async (id, timestamp, body, keys) => {
          expect(signer.sign({ id, timestamp, body }, keys)).toBe(
            await signWebhook({ id, timestamp, body }, keys),
          );
        },
      ),
    );
  });

  it("opens each sealed secret once while it is kept, and keeps at most `max`", () => {
    const opened: string[] = [];
    const signer = new WebhookSigner((s) => {
      opened.push(s);
      return s;
    }, 2);
    const [a, b, c] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    for (const s of [a, b, a, b, a]) signer.sign(REF, [s]);
    expect(opened).toEqual([a, b]);
    signer.sign(REF, [c]); // b, the least recently used, goes
    signer.sign(REF, [a]);
    signer.sign(REF, [b]);
    expect(opened).toEqual([a, b, c, b]);
  });
});
