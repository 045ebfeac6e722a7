import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../test-fixtures/standard-webhooks-vectors.json" with { type: "json" };
import { ProtocolError } from "./errors.js";
import { newWebhookSecret, parseWebhookSecret, signWebhook, webhookSignatures } from "./webhook-signature.js";

// An independent HMAC to check WebCrypto's against. This package compiles without Node's types
// (it runs in browsers), so node:crypto is fetched here.
type Hmac = { update(data: string): Hmac; digest(encoding: "base64"): string };
const { createHmac } = (
  globalThis as unknown as {
    process: { getBuiltinModule(id: string): { createHmac(alg: string, key: Uint8Array): Hmac } };
  }
).process.getBuiltinModule("node:crypto");

const ref = vectors.sign[0]!;
const message = { id: ref.id, timestamp: ref.timestamp, body: ref.payload };
const secretOf = (bytes: number[]) => `whsec_${btoa(String.fromCharCode(...bytes))}`;

describe("signWebhook", () => {
  it("reproduces the Standard Webhooks reference signature", async () => {
    for (const v of vectors.sign) {
      expect(await signWebhook({ id: v.id, timestamp: v.timestamp, body: v.payload }, v.secret)).toBe(
        v.signature,
      );
    }
  });

  it("signs a byte body exactly as its text", async () => {
    const bytes = new TextEncoder().encode(ref.payload);
    expect(await signWebhook({ ...message, body: bytes }, ref.secret)).toBe(ref.signature);
  });

  it("gives one v1 entry per secret, space-separated, in the order given (a rotation)", async () => {
    const other = newWebhookSecret();
    const header = await signWebhook(message, [other, ref.secret]);
    const [first, second] = header.split(" ");
    expect(first).toBe(await signWebhook(message, other));
    expect(second).toBe(ref.signature);
  });

  it("signs the spec's content layout {id}.{timestamp}.{body} (checked against node:crypto)", async () => {
    const ex = vectors.specExample;
    expect(`${ex.id}.${ex.timestamp}.${ex.payload}`).toBe(ex.signedContent);
    const secret = newWebhookSecret();
    const key = parseWebhookSecret(secret);
    const expected = createHmac("sha256", key).update(ex.signedContent).digest("base64");
    expect(await webhookSignatures({ id: ex.id, timestamp: ex.timestamp, body: ex.payload }, secret)).toEqual(
      [expected],
    );
  });

  it("matches node:crypto's HMAC for any id, timestamp, body and key length", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Za-z0-9_]{1,40}$/),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.uint8Array({ minLength: 24, maxLength: 64 }),
        async (id, timestamp, body, key) => {
          const secret = secretOf([...key]);
          const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
          expect(await signWebhook({ id, timestamp, body }, secret)).toBe(`v1,${expected}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses no secret, an id with a space or comma, and a timestamp that is not whole seconds", async () => {
    await expect(signWebhook(message, [])).rejects.toMatchObject({ code: "webhook_secret_invalid" });
    for (const id of ["", "a b", "a,b"]) {
      await expect(signWebhook({ ...message, id }, ref.secret)).rejects.toMatchObject({
        code: "invalid_value",
      });
    }
    for (const timestamp of [-1, 1.5, Number.NaN, 2 ** 60]) {
      await expect(signWebhook({ ...message, timestamp }, ref.secret)).rejects.toBeInstanceOf(ProtocolError);
    }
  });
});

describe("parseWebhookSecret", () => {
  it("reads whsec_ and the base64 of 24 to 64 bytes", () => {
    expect(parseWebhookSecret(ref.secret)).toHaveLength(24);
    expect(parseWebhookSecret(secretOf(Array(64).fill(7)))).toHaveLength(64);
  });

  it.each([
    ["no prefix", ref.secret.slice("whsec_".length)],
    ["another prefix", `whpk_${ref.secret.slice(6)}`],
    ["empty key", "whsec_"],
    ["23 bytes", secretOf(Array(23).fill(1))],
    ["65 bytes", secretOf(Array(65).fill(1))],
    ["url-safe alphabet", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_"],
    ["missing padding", secretOf(Array(25).fill(1)).replace(/=+$/, "")],
    ["whitespace", ` ${ref.secret}`],
    ["non-canonical padding bits", "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=="],
  ])("refuses %s with a clear error that never quotes the secret", (_what, secret) => {
    let error: unknown;
    try {
      parseWebhookSecret(secret);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("webhook_secret_invalid");
    expect((error as ProtocolError).message).toMatch(/whsec_<base64 of 24–64 bytes>/);
    if (secret.length > 12) expect((error as ProtocolError).message).not.toContain(secret.slice(6));
  });
});

describe("newWebhookSecret", () => {
  it("makes a parseable 32-byte secret, different each time", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(parseWebhookSecret(a)).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });
});
