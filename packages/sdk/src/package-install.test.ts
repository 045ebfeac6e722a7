import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// The SDK installs outside this repository (README "Install"): `npm pack` of both packages,
// installed offline into an empty project, pulls @psphub/protocol as a normal dependency and
// works from ESM and CommonJS. The packed files are dist/, built here when absent (CI builds
// them before the tests, for publint).
const root = fileURLToPath(new URL("../../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "psphub-sdk-install-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

describe("@psphub/sdk outside this repository", () => {
  it("installs from its packed tarballs and runs from ESM and CommonJS", { timeout: 180_000 }, () => {
    if (
      !existsSync(join(root, "packages/sdk/dist/index.js")) ||
      !existsSync(join(root, "packages/protocol/dist/index.js"))
    )
      run("npm", ["run", "build", "-w", "@psphub/protocol", "-w", "@psphub/sdk"], root);
    const packs = join(work, "packs");
    mkdirSync(packs);
    run("npm", ["pack", "-w", "@psphub/protocol", "-w", "@psphub/sdk", "--pack-destination", packs], root);
    const tarballs = readdirSync(packs).map((f) => join(packs, f));
    expect(tarballs.map((t) => t.split("/").pop()).sort()).toEqual([
      "psphub-protocol-0.1.0.tgz",
      "psphub-sdk-0.1.0.tgz",
    ]);

    const app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "tenant-backend", private: true }));
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...tarballs], app);
    expect(existsSync(join(app, "node_modules/@psphub/protocol/package.json"))).toBe(true);

    // The callback a backend would send, verified with the token by the protocol package.
    const body = `
      const order = { merchantId: "m1", orderNo: "o1", amount: "100.10", currency: "USD" };
      const cb = sdk.buildCallback(order, { status: "success", transactionId: "tx-1", time: 1 });
      const json = sdk.encodeCallback(cb, "secret-token").body;
      console.log(JSON.stringify({ json, valid: protocol.verify(json, "secret-token") }));`;
    const esm = `import * as sdk from "@psphub/sdk"; import * as protocol from "@psphub/protocol";${body}`;
    const cjs = `const sdk = require("@psphub/sdk"); const protocol = require("@psphub/protocol");${body}`;
    for (const [flag, code] of [
      ["--input-type=module", esm],
      ["--input-type=commonjs", cjs],
    ] as const) {
      const out = JSON.parse(run(process.execPath, [flag, "-e", code], app));
      expect(out.valid).toBe(true);
      expect(out.json).toContain('"amount":100.10');
    }
  });
});
