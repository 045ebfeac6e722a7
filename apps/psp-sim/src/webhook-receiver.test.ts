import { newWebhookSecret, signWebhook } from "@psphub/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { loadSimConfig, SimConfigError } from "./config.js";
import { type RunningSim, startSim } from "./sim-server.js";

// The simulator's receiver mode: `POST /webhooks` verifies with the SDK and logs what it got.

const EVENT = JSON.stringify({
  type: "wallet.credited",
  timestamp: "2026-12-05T00:00:00.000Z",
  data: { orderNo: "n15nddgzbdgu", credit: "97.20", currency: "USD" },
});

async function signedHeaders(secrets: string | string[], body: string, id = "msg_sim") {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signWebhook({ id, timestamp, body }, secrets),
  };
}

let running: RunningSim | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(webhookSecrets?: string[]) {
  const lines: string[] = [];
  running = await startSim({
    port: 0,
    callbackUrl: "http://127.0.0.1:1/api/psp",
    token: "sim-token",
    ...(webhookSecrets ? { webhookSecrets } : {}),
    log: (line) => lines.push(line),
  });
  return { url: `${running.url}/webhooks`, lines, sim: running.sim };
}

describe("psp-sim as a webhook receiver", () => {
  it("accepts a signed webhook with 204, logs its type, id and data, and keeps it", async () => {
    const secret = newWebhookSecret();
    const { url, lines, sim } = await start([secret]);
    const res = await fetch(url, {
      method: "POST",
      body: EVENT,
      headers: await signedHeaders(secret, EVENT),
    });
    expect(res.status).toBe(204);
    expect(lines).toEqual([
      'webhook wallet.credited msg_sim (event 2026-12-05T00:00:00.000Z): {"orderNo":"n15nddgzbdgu","credit":"97.20","currency":"USD"}',
    ]);
    expect(sim.webhooks.received.map((w) => [w.type, w.id])).toEqual([["wallet.credited", "msg_sim"]]);
  });

  it("refuses a tampered or wrongly keyed webhook with 400 and its reason; either secret of a rotation works", async () => {
    const older = newWebhookSecret();
    const newer = newWebhookSecret();
    const { url, lines, sim } = await start([older, newer]);
    const tampered = await fetch(url, {
      method: "POST",
      body: EVENT.replace("97.20", "97.21"),
      headers: await signedHeaders(newer, EVENT),
    });
    expect(tampered.status).toBe(400);
    expect(await tampered.json()).toMatchObject({ error: "no_matching_signature" });
    const stranger = await fetch(url, {
      method: "POST",
      body: EVENT,
      headers: await signedHeaders(newWebhookSecret(), EVENT),
    });
    expect(stranger.status).toBe(400);
    for (const secret of [older, newer]) {
      const ok = await fetch(url, {
        method: "POST",
        body: EVENT,
        headers: await signedHeaders(secret, EVENT),
      });
      expect(ok.status).toBe(204);
    }
    expect((await fetch(url)).status).toBe(405);
    expect(lines.filter((l) => l.startsWith("webhook refused (no_matching_signature)"))).toHaveLength(2);
    expect(sim.webhooks.received).toHaveLength(2);
  });

  it("keeps the route off (404) without --webhook-secret", async () => {
    const { url, sim } = await start();
    const res = await fetch(url, { method: "POST", body: EVENT });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "webhooks_off" });
    expect(sim.webhooks.enabled).toBe(false);
  });
});

describe("--webhook-secret", () => {
  const required = ["--callback-url", "http://127.0.0.1:3000/api/psp", "--token", "t"];

  it("takes one secret or a comma-separated pair, from the flag or PSP_SIM_WEBHOOK_SECRET", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(loadSimConfig([...required, "--webhook-secret", a], {})).toMatchObject({ webhookSecrets: [a] });
    expect(loadSimConfig(required, { PSP_SIM_WEBHOOK_SECRET: `${a}, ${b}` })).toMatchObject({
      webhookSecrets: [a, b],
    });
    expect(loadSimConfig(required, {})).not.toHaveProperty("webhookSecrets");
  });

  it("refuses a malformed secret at start, naming the flag", () => {
    expect(() => loadSimConfig([...required, "--webhook-secret", "whsec_c2hvcnQ="], {})).toThrow(
      SimConfigError,
    );
    expect(() => loadSimConfig([...required, "--webhook-secret", "secret"], {})).toThrow(
      /^--webhook-secret: /,
    );
  });
});
