import { newWebhookSecret, signWebhook } from "@psphub/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import vectors from "../../protocol/test-fixtures/standard-webhooks-vectors.json" with { type: "json" };
import { SdkError, WebhookVerificationError } from "./errors.js";
import { verifyWebhook } from "./verify-webhook.js";

const ref = vectors.sign[0]!;
const at = (seconds: number) => () => seconds * 1000;
const refHeaders = (signature = ref.signature) => ({
  "webhook-id": ref.id,
  "webhook-timestamp": String(ref.timestamp),
  "webhook-signature": signature,
});
const refOptions = { now: at(ref.timestamp) };

/** A signed request for an event, as the CRM would send it. */
async function signed(secrets: string | string[], body: string, id = "msg_1", timestamp = 1_800_000_000) {
  const signature = await signWebhook({ id, timestamp, body }, secrets);
  return {
    headers: { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
    body,
    now: at(timestamp),
  };
}

const EVENT = JSON.stringify({
  type: "deposit.succeeded",
  timestamp: "2026-12-05T00:00:00.000Z",
  data: { orderNo: "n15nddgzbdgu", amount: "100.00", currency: "USD" },
});

async function codeOf(...args: Parameters<typeof verifyWebhook>): Promise<string> {
  const result = await verifyWebhook(...args);
  return result.ok ? "ok" : result.error.code;
}

describe("verifyWebhook against the Standard Webhooks reference vectors", () => {
  it("accepts the reference signature (its body is no event, so it stops at bad_payload, past the signature)", async () => {
    expect(await codeOf(refHeaders(), ref.payload, ref.secret, refOptions)).toBe("bad_payload");
    expect(await codeOf(refHeaders(), ref.payload, newWebhookSecret(), refOptions)).toBe(
      "no_matching_signature",
    );
  });

  it.each(vectors.verify)("$name: $source", async (v) => {
    expect(await codeOf(refHeaders(v.header), ref.payload, ref.secret, refOptions)).toBe(
      v.valid ? "bad_payload" : "no_matching_signature",
    );
  });

  it("skips the spec example's v1a entry and matches neither of its signatures with another secret", async () => {
    const ex = vectors.specExample;
    const headers = {
      "webhook-id": ex.id,
      "webhook-timestamp": String(ex.timestamp),
      "webhook-signature": ex.signatureHeader,
    };
    expect(await codeOf(headers, ex.payload, newWebhookSecret(), { now: at(ex.timestamp) })).toBe(
      "no_matching_signature",
    );
    // With our own v1 signature added to the spec's header, the same body verifies and parses.
    const mine = newWebhookSecret();
    const ours = await signWebhook({ id: ex.id, timestamp: ex.timestamp, body: ex.payload }, mine);
    const result = await verifyWebhook(
      { ...headers, "webhook-signature": `${ex.signatureHeader} ${ours}` },
      ex.payload,
      mine,
      { now: at(ex.timestamp) },
    );
    expect(result).toMatchObject({
      ok: true,
      webhook: { id: ex.id, timestamp: ex.timestamp, type: "contact.created" },
    });
  });
});

describe("verifyWebhook", () => {
  it("returns the event, parsed after the signature checked out", async () => {
    const secret = newWebhookSecret();
    const req = await signed(secret, EVENT);
    expect(await verifyWebhook(req.headers, req.body, secret, { now: req.now })).toEqual({
      ok: true,
      webhook: {
        id: "msg_1",
        timestamp: 1_800_000_000,
        type: "deposit.succeeded",
        eventTimestamp: "2026-12-05T00:00:00.000Z",
        data: { orderNo: "n15nddgzbdgu", amount: "100.00", currency: "USD" },
        body: EVENT,
      },
    });
  });

  it("reads fetch Headers and headers in any case, and a body as bytes", async () => {
    const secret = newWebhookSecret();
    const req = await signed(secret, EVENT);
    const upper = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toUpperCase(), v]));
    const bytes = new TextEncoder().encode(EVENT);
    for (const headers of [new Headers(req.headers), upper]) {
      expect(await codeOf(headers, req.body, secret, { now: req.now })).toBe("ok");
      expect(await codeOf(headers, bytes, [secret], { now: req.now })).toBe("ok");
    }
  });

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])(
    "refuses a request without %s, or with it empty, as missing_header",
    async (name) => {
      const secret = newWebhookSecret();
      const req = await signed(secret, EVENT);
      const { [name as "webhook-id"]: _gone, ...without } = req.headers;
      expect(await codeOf(without, req.body, secret, { now: req.now })).toBe("missing_header");
      expect(await codeOf({ ...req.headers, [name]: "" }, req.body, secret, { now: req.now })).toBe(
        "missing_header",
      );
    },
  );

  it.each(["hello", "1.5", "-1", "1e9", " 1800000000", "0x10", "1234567890123456"])(
    "refuses the timestamp %j as bad_timestamp",
    async (text) => {
      const secret = newWebhookSecret();
      const req = await signed(secret, EVENT);
      expect(
        await codeOf({ ...req.headers, "webhook-timestamp": text }, req.body, secret, { now: req.now }),
      ).toBe("bad_timestamp");
    },
  );

  it("accepts a timestamp up to the tolerance away either way, and refuses one second beyond", async () => {
    const secret = newWebhookSecret();
    const req = await signed(secret, EVENT);
    const t = 1_800_000_000;
    expect(await codeOf(req.headers, req.body, secret, { now: at(t + 300) })).toBe("ok");
    expect(await codeOf(req.headers, req.body, secret, { now: at(t - 300) })).toBe("ok");
    expect(await codeOf(req.headers, req.body, secret, { now: at(t + 301) })).toBe("too_old");
    expect(await codeOf(req.headers, req.body, secret, { now: at(t - 301) })).toBe("too_new");
    expect(await codeOf(req.headers, req.body, secret, { now: at(t + 30), toleranceSeconds: 10 })).toBe(
      "too_old",
    );
  });

  it("refuses a correctly signed body that is not {type, timestamp, data} as bad_payload", async () => {
    const secret = newWebhookSecret();
    for (const body of [
      "not json",
      "[]",
      '{"type":"x","timestamp":"t"}',
      '{"type":1,"timestamp":"t","data":{}}',
    ]) {
      const req = await signed(secret, body);
      expect(await codeOf(req.headers, req.body, secret, { now: req.now })).toBe("bad_payload");
    }
    const req = await signed(secret, "");
    const bad = new Uint8Array([0xff, 0xfe]);
    const badReq = {
      ...req.headers,
      "webhook-signature": await signWebhook({ id: "msg_1", timestamp: 1_800_000_000, body: bad }, secret),
    };
    expect(await codeOf(badReq, bad, secret, { now: req.now })).toBe("bad_payload");
  });

  it("does not parse a body whose signature fails (no_matching_signature, not bad_payload)", async () => {
    const secret = newWebhookSecret();
    const req = await signed(secret, EVENT);
    expect(await codeOf(req.headers, "not json", secret, { now: req.now })).toBe("no_matching_signature");
  });

  it("throws WebhookVerificationError bad_secret for a malformed secret or none, whatever the request", async () => {
    for (const secrets of [[], "", ref.secret.slice(6), ["whsec_c2hvcnQ="], [newWebhookSecret(), "oops"]]) {
      const error = await verifyWebhook({}, "", secrets).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebhookVerificationError);
      expect(error).toBeInstanceOf(SdkError);
      expect((error as WebhookVerificationError).code).toBe("bad_secret");
    }
    await expect(verifyWebhook({}, "", newWebhookSecret(), { toleranceSeconds: -1 })).rejects.toMatchObject({
      code: "invalid_config",
    });
  });
});

const ID = /^[A-Za-z0-9_]{1,32}$/;

describe("verifyWebhook properties", () => {
  it("verifies what signWebhook signed, for any id, timestamp and body", async () => {
    const secret = newWebhookSecret();
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(ID),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.string({ unit: "binary", maxLength: 100 }),
        async (id, timestamp, text) => {
          const body = JSON.stringify({ type: "deposit.created", timestamp: "t", data: { text } });
          const req = await signed(secret, body, id, timestamp);
          expect(await codeOf(req.headers, body, secret, { now: req.now })).toBe("ok");
        },
      ),
      { numRuns: 200 },
    );
  });

  it("fails after any single-byte change of the body, the id or the timestamp", async () => {
    const secret = newWebhookSecret();
    const body = new TextEncoder().encode(EVENT);
    const req = await signed(secret, EVENT, "msg_abc", 1_800_000_000);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("body", "id", "timestamp"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (what, pos, xor) => {
          if (what === "body") {
            const changed = body.slice();
            changed[pos % changed.length]! ^= xor;
            expect(await codeOf(req.headers, changed, secret, { now: req.now })).not.toBe("ok");
            return;
          }
          const text = req.headers[what === "id" ? "webhook-id" : "webhook-timestamp"];
          const i = pos % text.length;
          const pool = what === "id" ? "abcdefghijklmnopqrstuvwxyz_0123456789" : "0123456789";
          const replacement = pool[(pool.indexOf(text[i]!) + 1 + (xor % (pool.length - 1))) % pool.length]!;
          const changed = text.slice(0, i) + replacement + text.slice(i + 1);
          const headers = { ...req.headers, [what === "id" ? "webhook-id" : "webhook-timestamp"]: changed };
          // A changed timestamp is judged at its own time, so only the signature can refuse it.
          const now = what === "timestamp" ? at(Number(changed)) : req.now;
          expect(await codeOf(headers, body, secret, { now, toleranceSeconds: 10 ** 12 })).toBe(
            "no_matching_signature",
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rotation: a request signed with two secrets verifies with either, and with both", async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), async (oldFirst) => {
        const older = newWebhookSecret();
        const newer = newWebhookSecret();
        const req = await signed(oldFirst ? [older, newer] : [newer, older], EVENT);
        expect(req.headers["webhook-signature"].split(" ")).toHaveLength(2);
        for (const secrets of [older, newer, [older, newer], [newWebhookSecret(), newer]]) {
          expect(await codeOf(req.headers, EVENT, secrets, { now: req.now })).toBe("ok");
        }
        expect(await codeOf(req.headers, EVENT, newWebhookSecret(), { now: req.now })).toBe(
          "no_matching_signature",
        );
      }),
      { numRuns: 20 },
    );
  });
});
