import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { newOrderNo } from "../../common/ids.js";
import { createGuardedClient } from "../../infra/http-out/guarded-client.js";
import { freePort } from "../../test/free-port.js";
import { startCrmEmulator } from "./certify-crm-emulator.js";
import { runCertify } from "./certify-suite.js";

// The SDK's example backend (packages/sdk/examples/tenant-backend.ts), run as its README says,
// passes the whole suite: API-1, its callbacks through the test hooks, API-3 and the payouts.
const root = fileURLToPath(new URL("../../../../../", import.meta.url));
const example = fileURLToPath(
  new URL("../../../../../packages/sdk/examples/tenant-backend.ts", import.meta.url),
);
const tsx = createRequire(import.meta.url).resolve("tsx");
const TOKEN = "sdk-example-certify-token-0123456789";
const http = createGuardedClient({ allowPrivate: true });
let child: ChildProcess | undefined;
const crm = await startCrmEmulator({ port: 0, host: "127.0.0.1", token: TOKEN, now: Date.now });
afterAll(async () => {
  child?.kill();
  await crm.close();
  await http.close();
});

describe("the SDK's example backend", () => {
  it("passes psphub certify", { timeout: 60_000 }, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ["--conditions=source", "--import", tsx, example], {
      cwd: root,
      env: {
        ...process.env,
        PSP_TOKEN: TOKEN,
        CRM_CALLBACK_URL: crm.url,
        PUBLIC_URL: base,
        PORT: String(port),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    for (const until = Date.now() + 30_000; ; ) {
      try {
        await fetch(base);
        break;
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const report = await runCertify(
      {
        appUrl: base,
        merchantId: "0123456789abcdef0123456789abcdef",
        token: TOKEN,
        statusQuery: true,
        allowHttpUrls: true,
        payouts: true,
      },
      { http, now: Date.now, newOrderNo, inbox: crm.inbox, waits: { retryWaitMs: 10_000, quietMs: 2_000 } },
    );
    expect(report.cases.filter((c) => c.verdict === "failed").map((c) => [c.id, c.detail])).toEqual([]);
    expect(report.certified).toBe(true);
    expect(report.cases.filter((c) => c.api === "API-2" && c.verdict === "passed")).toHaveLength(8);
    expect(report.cases.filter((c) => c.id.startsWith("payout.")).map((c) => c.verdict)).toEqual(
      Array(4).fill("passed"),
    );
  });
});
