import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { newWebhookSecret, signWebhook } from "@psphub/protocol";
import { afterAll, describe, expect, it } from "vitest";
import vectors from "../../protocol/test-fixtures/standard-webhooks-vectors.json" with { type: "json" };
import { verifyWebhook } from "./verify-webhook.js";

// docs/webhooks.md: its Node snippet runs as written (imports bound to the real modules, its
// server on a free port), and the reference vector it quotes is the fixture's.

const doc = readFileSync(new URL("../../../docs/webhooks.md", import.meta.url), "utf8");
const snippet = /```js\n([\s\S]*?)```/.exec(doc)![1]!;
const pythonSnippet = /```python\n([\s\S]*?)```/.exec(doc)![1]!;
const hasPython = spawnSync("python3", ["--version"]).status === 0;

const servers: Server[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

/** Runs the snippet; answers the URL its server listens on and what it printed. */
async function runSnippet(secrets: string[]): Promise<{ url: string; printed: unknown[][] }> {
  const printed: unknown[][] = [];
  let listening: Promise<string> | undefined;
  const create = (handler: RequestListener) => {
    const server = createServer(handler);
    servers.push(server);
    return {
      listen: () => {
        listening = new Promise((done) =>
          server.listen(0, "127.0.0.1", () =>
            done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
          ),
        );
      },
    };
  };
  const body = snippet.replace(/^import .*\n/gm, "");
  expect(body).not.toMatch(/\bimport\b/);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...args: string[]
  ) => (...values: unknown[]) => Promise<void>;
  const run = new AsyncFunction("createServer", "verifyWebhook", "process", "console", body);
  await run(
    create,
    verifyWebhook,
    { env: { PSPHUB_WEBHOOK_SECRETS: secrets.join(",") } },
    {
      log: (...args: unknown[]) => printed.push(args),
    },
  );
  return { url: await listening!, printed };
}

const EVENT = JSON.stringify({
  type: "deposit.succeeded",
  timestamp: "2026-12-05T00:00:00.000Z",
  data: { orderNo: "n15nddgzbdgu", amount: "100.00", currency: "USD" },
});

async function post(url: string, secrets: string | string[], body = EVENT, id = "msg_doc") {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = await signWebhook({ id, timestamp, body: EVENT }, secrets);
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature },
  });
  return { status: res.status, text: await res.text() };
}

describe("docs/webhooks.md", () => {
  it("its Node receiver accepts a signed webhook once per webhook-id, and refuses a tampered one", async () => {
    const older = newWebhookSecret();
    const newer = newWebhookSecret();
    const { url, printed } = await runSnippet([older, newer]);
    expect(await post(url, newer)).toEqual({ status: 204, text: "" });
    expect(await post(url, [newer, older])).toEqual({ status: 204, text: "" });
    expect(printed).toEqual([["deposit.succeeded", "msg_doc", JSON.parse(EVENT).data]]);
    expect(await post(url, older, EVENT.replace("100.00", "1000.00"))).toEqual({
      status: 400,
      text: "no_matching_signature",
    });
    expect(await post(url, newWebhookSecret())).toEqual({ status: 400, text: "no_matching_signature" });
  });

  it("quotes the reference vector of the fixture", () => {
    const v = vectors.sign[0]!;
    for (const text of [v.secret, v.id, String(v.timestamp), v.payload, v.signature]) {
      expect(doc).toContain(`\`${text}\``);
    }
  });

  // The Python snippet as written, run by python3 over the fixture's vectors: the signed one,
  // the multi-signature header (unknown versions and wrong v1 entries around the right one),
  // the bad ones, a tampered body and a timestamp outside the tolerance.
  it.skipIf(!hasPython)("its Python snippet verifies the reference vectors", () => {
    const harness = `
import json, sys
v = json.load(sys.stdin)
s = v["sign"][0]
def check(signature, body, now):
    headers = {"webhook-id": s["id"], "webhook-timestamp": str(s["timestamp"]), "webhook-signature": signature}
    try:
        return json.dumps(verify_webhook(headers, body.encode(), [s["secret"]], now=now))
    except ValueError as e:
        return "refused " + str(e)
out = [check(s["signature"], s["payload"], s["timestamp"])]
out += [check(c["header"], s["payload"], s["timestamp"] + 10) for c in v["verify"]]
out.append(check(s["signature"], s["payload"].replace("2432232314", "2432232315"), s["timestamp"]))
out.append(check(s["signature"], s["payload"], s["timestamp"] + 301))
print(json.dumps(out))
`;
    const fixture = readFileSync(
      new URL("../../protocol/test-fixtures/standard-webhooks-vectors.json", import.meta.url),
      "utf8",
    );
    const run = spawnSync("python3", ["-c", `${pythonSnippet}\n${harness}`], {
      input: fixture,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    const verdicts = vectors.verify.map((c) =>
      c.valid ? '{"test": 2432232314}' : "refused no_matching_signature",
    );
    expect(JSON.parse(run.stdout)).toEqual([
      '{"test": 2432232314}',
      ...verdicts,
      "refused no_matching_signature",
      "refused too_old_or_too_new",
    ]);
  });
});
