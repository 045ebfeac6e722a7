import { newWebhookSecret, signWebhook } from "@psphub/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  createWebhookListenCommand,
  startWebhookListener,
  type WebhookListener,
} from "./webhook-commands.js";

// `psphub webhook listen` in-process: signed and tampered POSTs to a real listener on a free port.

const EVENT = JSON.stringify({
  type: "deposit.succeeded",
  timestamp: "2026-12-05T00:00:00.000Z",
  data: { orderNo: "n15nddgzbdgu", amount: "100.00", currency: "USD" },
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: res.status, body: await res.text() };
}

async function signedHeaders(secrets: string | string[], body: string, id = "msg_1") {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signWebhook({ id, timestamp, body }, secrets),
  };
}

let listener: WebhookListener | undefined;
afterEach(async () => {
  await listener?.close();
  listener = undefined;
});

describe("psphub webhook listen", () => {
  it("answers 204 to a signed webhook and prints its type, id, timestamp and data", async () => {
    const secret = newWebhookSecret();
    const { io, out, err } = capture();
    listener = await startWebhookListener({
      port: 0,
      host: "127.0.0.1",
      secrets: [secret],
      toleranceSeconds: 300,
      io,
    });
    const res = await post(`${listener.url}/webhooks`, EVENT, await signedHeaders(secret, EVENT, "msg_42"));
    expect(res).toEqual({ status: 204, body: "" });
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^deposit\.succeeded {2}msg_42 {2}event 2026-12-05T00:00:00\.000Z, signed \d{4}-/);
    expect(out[0]).toContain('"orderNo": "n15nddgzbdgu"');
    expect(out[0]).toContain('"amount": "100.00"');
  });

  it("answers 400 naming the reason to a tampered, unsigned, stale or wrongly keyed webhook", async () => {
    const secret = newWebhookSecret();
    const { io, out, err } = capture();
    listener = await startWebhookListener({
      port: 0,
      host: "127.0.0.1",
      secrets: [secret],
      toleranceSeconds: 300,
      io,
    });
    const headers = await signedHeaders(secret, EVENT);
    const cases: Array<[string, Record<string, string>, string]> = [
      [EVENT.replace("100.00", "900.00"), headers, "no_matching_signature"],
      [EVENT, { ...headers, "webhook-id": "msg_2" }, "no_matching_signature"],
      [EVENT, await signedHeaders(newWebhookSecret(), EVENT), "no_matching_signature"],
      [EVENT, { "webhook-id": "msg_1", "webhook-timestamp": headers["webhook-timestamp"] }, "missing_header"],
      [EVENT, { ...headers, "webhook-timestamp": "1614265330" }, "too_old"],
      [EVENT, { ...headers, "webhook-timestamp": "soon" }, "bad_timestamp"],
    ];
    for (const [body, h, code] of cases) {
      const res = await post(listener.url, body, h);
      expect(res.status, code).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: code });
    }
    expect(out).toEqual([]);
    expect(err).toHaveLength(cases.length);
    expect(err[0]).toMatch(/^webhook refused \(no_matching_signature\)/);
  });

  it("accepts either secret during a rotation, and refuses GET with 405", async () => {
    const older = newWebhookSecret();
    const newer = newWebhookSecret();
    const { io, out } = capture();
    listener = await startWebhookListener({
      port: 0,
      host: "127.0.0.1",
      secrets: [older],
      toleranceSeconds: 300,
      io,
    });
    expect((await post(listener.url, EVENT, await signedHeaders([newer, older], EVENT))).status).toBe(204);
    expect((await post(listener.url, EVENT, await signedHeaders(newer, EVENT))).status).toBe(400);
    expect((await fetch(listener.url)).status).toBe(405);
    expect(out).toHaveLength(1);
  });

  it("runs as a command until stopped, and refuses a malformed secret or none as a usage error", async () => {
    const secret = newWebhookSecret();
    const { io, out, err } = capture();
    let stop: () => void = () => {};
    const stopped = new Promise<void>((done) => {
      stop = done;
    });
    const command = createWebhookListenCommand({ ...io, readStdin: async () => "" }, () => stopped);
    const running = command.run({ secret: [secret] as unknown as string, port: "0", tolerance: "60" }, []);
    await expect.poll(() => out.join("\n")).toMatch(/receiving on http:\/\/127\.0\.0\.1:\d+\//);
    const url = /receiving on (\S+)\//.exec(out[0]!)![1]!;
    expect((await post(url, EVENT, await signedHeaders(secret, EVENT))).status).toBe(204);
    stop();
    expect(await running).toBe(0);
    expect(out.at(-1)).toBe("psphub webhook listen: stopped.");
    expect(err).toEqual([]);

    await expect(
      command.run({ secret: ["whsec_short"] as unknown as string, port: "0" }, []),
    ).rejects.toThrow(/--secret: the webhook secret/);
    await expect(command.run({ port: "0" }, [])).rejects.toThrow(/--secret is required/);
    await expect(command.run({ secret: [secret] as unknown as string, port: "70000" }, [])).rejects.toThrow(
      /--port must be/,
    );
  });
});
