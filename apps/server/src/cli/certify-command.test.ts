import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SimMode, startSim } from "@psphub/psp-sim";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../test/free-port.js";
import { createCertifyCommand } from "./certify-command.js";
import { parseCommandArgs } from "./command.js";

// `psphub certify` as a developer runs it: one line per case, a closing count, exit 0 only
// when nothing failed; the SSRF guard as in the server.
const TOKEN = "cli-certify-token-0123456789abcdef";
const MERCHANT = "fedcba9876543210fedcba9876543210";
const DEV = { ALLOW_PRIVATE_APP_URLS: "true", ALLOW_HTTP_PAYMENT_URLS: "true" };
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function sim(modes: SimMode[] = [], callbackUrl = "http://127.0.0.1:9/api/psp") {
  const s = await startSim({
    port: 0,
    callbackUrl,
    integrations: [{ token: TOKEN, merchantId: MERCHANT, modes }],
    log: () => {},
  });
  closers.push(() => s.close());
  return s.url;
}

async function certify(appUrl: string, env: Record<string, string>, extra: string[] = []) {
  const lines: string[] = [];
  const cmd = createCertifyCommand(
    { out: (t) => lines.push(...t.split("\n")), err: (t) => lines.push(t), readStdin: async () => "" },
    env,
  );
  const argv = ["--app-url", appUrl, "--merchant-id", MERCHANT, "--token", TOKEN, "--status-query", ...extra];
  const code = await cmd.run(parseCommandArgs(cmd, argv).values, []);
  return { code, lines };
}

describe("psphub certify", () => {
  it("prints all passed against the simulator and exits 0, and writes JUnit and JSON", {
    timeout: 30_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "certify-"));
    const port = await freePort();
    const r = await certify(await sim([], `http://127.0.0.1:${port}/api/psp`), DEV, [
      "--callback-port",
      String(port),
      "--junit",
      join(dir, "r.xml"),
      "--json",
      join(dir, "r.json"),
    ]);
    expect(r.lines).toContain(
      `callbacks: the backend's CRM_Callback_URL must be http://127.0.0.1:${port}/api/psp`,
    );
    expect(r.lines.filter((l) => /^(passed|failed|skipped) /.test(l))).toHaveLength(23);
    expect(r.lines.at(-1)).toBe("17 passed, 0 failed, 6 skipped: every mandatory case passed");
    expect(r.code).toBe(0);
    expect(r.lines.join("\n")).not.toContain(TOKEN);
    const xml = readFileSync(join(dir, "r.xml"), "utf8");
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite name="psphub certify [0-9a-f]+" tests="23" failures="0" skipped="6"/,
    );
    expect(JSON.parse(readFileSync(join(dir, "r.json"), "utf8"))).toMatchObject({ certified: true });
  });

  it("exits 1 naming the failed case, with what to fix, against a broken mode", async () => {
    const r = await certify(await sim(["api1_new_url"]), DEV);
    expect(r.code).toBe(1);
    const failedLines = r.lines.filter((l) => l.startsWith("failed "));
    expect(failedLines).toEqual([expect.stringMatching(/^failed {2}api1\.same_order /)]);
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {8}fix: Keep the order_no/));
    expect(r.lines.at(-1)).toMatch(/, 1 failed, .*NOT certified/);
  });

  it("says NOT certified and exits 1 when the API-2 cases could not run (no --callback-port)", async () => {
    const r = await certify(await sim(), DEV);
    expect(r.lines).toContain("callbacks: not received (no --callback-port), so the API-2 cases are skipped");
    expect(r.lines.filter((l) => l.startsWith("failed "))).toEqual([]);
    expect(r.lines.at(-1)).toMatch(/, 0 failed, 14 skipped: NOT certified: a mandatory case was skipped/);
    expect(r.code).toBe(1);
  });

  it("with --payouts, runs the payout cases: the emulator takes API-5 on /payout/callback", {
    timeout: 30_000,
  }, async () => {
    const port = await freePort();
    const r = await certify(await sim([], `http://127.0.0.1:${port}/api/psp`), DEV, [
      "--callback-port",
      String(port),
      "--payouts",
      "--payout-fields",
      '{"iban":"DE89370400440532013000","holder":"Certify Test"}',
    ]);
    expect(r.lines.filter((l) => /^passed {2}payout\./.test(l))).toEqual([
      expect.stringMatching(/^passed {2}payout\.request /),
      expect.stringMatching(/^passed {2}payout\.idempotent /),
      expect.stringMatching(/^passed {2}payout\.callback /),
      expect.stringMatching(/^passed {2}payout\.status /),
    ]);
    expect(r.lines.at(-1)).toBe("21 passed, 0 failed, 2 skipped: every mandatory case passed");
    expect(r.code).toBe(0);
  });

  it("fails a backend that pays a payout_no twice, with what to fix", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const r = await certify(await sim(["payout_not_idempotent"], `http://127.0.0.1:${port}/api/psp`), DEV, [
      "--callback-port",
      String(port),
      "--payouts",
    ]);
    expect(r.lines.filter((l) => l.startsWith("failed "))).toEqual([
      expect.stringMatching(/^failed {2}payout\.idempotent .*paid twice\?$/),
    ]);
    expect(r.lines).toContainEqual(expect.stringMatching(/^ {8}fix: Record each payout under its payout_no/));
    expect(r.code).toBe(1);
  });

  it("in manual mode tells the developer what to do on each payment page", { timeout: 30_000 }, async () => {
    const port = await freePort();
    const run = certify(await sim([], `http://127.0.0.1:${port}/api/psp`), DEV, [
      "--callback-port",
      String(port),
      "--manual",
      "--manual-wait",
      "1",
    ]);
    const r = await run;
    const asks = r.lines.filter((l) => l.startsWith("act "));
    expect(asks).toEqual([
      expect.stringMatching(
        /^act {5}api2\.success {11}open http:\/\/127\.0\.0\.1:\d+\/pay\/page\/\w+\?key=\w+ and pay it \(success\)$/,
      ),
      expect.stringMatching(/api2\.failure .* and decline it \(failure\)$/),
      expect.stringMatching(/api2\.processing .* and report it processing, then paid$/),
      expect.stringMatching(/api2\.stop_after_400 .* and pay 10\.00 instead of 10\.04$/),
    ]);
    // The simulator's test hooks settled them anyway.
    expect(r.code).toBe(0);
  });

  it("refuses loopback addresses unless ALLOW_PRIVATE_APP_URLS=true", async () => {
    const r = await certify(await sim(), {});
    expect(r.code).toBe(1);
    expect(r.lines.find((l) => l.startsWith("failed  api1.answer"))).toMatch(/blocked_address/);
  });

  it("refuses a bad --app-url and --param-config before sending anything", async () => {
    await expect(certify("ftp://x", DEV)).rejects.toThrow(/is not an http\(s\) URL/);
    await expect(certify("http://127.0.0.1:1", DEV, ["--param-config", "{"])).rejects.toThrow(/not JSON/);
    await expect(certify("http://127.0.0.1:1", DEV, ["--param-config", '{"nope":{}}'])).rejects.toThrow(
      /--param-config: .*nope/,
    );
    await expect(certify("http://127.0.0.1:1", DEV, ["--callback-port", "http"])).rejects.toThrow(
      /not a port/,
    );
    await expect(certify("http://127.0.0.1:1", DEV, ["--manual"])).rejects.toThrow(
      /--manual needs --callback-port/,
    );
    await expect(
      certify("http://127.0.0.1:1", DEV, ["--payouts", "--payout-fields", '{"iban":1}']),
    ).rejects.toThrow(/--payout-fields must be a JSON object of strings/);
    await expect(
      certify("http://127.0.0.1:1", DEV, ["--payouts", "--payout-fields", '{"amount":"1"}']),
    ).rejects.toThrow(/--payout-fields: amount is one of API-4's own keys/);
    await expect(certify("http://127.0.0.1:1", DEV, ["--payout-fields", "{}"])).rejects.toThrow(
      /--payout-fields needs --payouts/,
    );
  });
});
