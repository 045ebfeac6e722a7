import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import { SecretBox } from "../infra/crypto/secret-box.js";
import { migrateToLatest } from "../infra/db/database.js";
import { createTenant } from "../modules/tenants/create-tenant.js";
import { runPsphub, useEnvTestDatabase } from "../test/cli-env.js";
import { insertIntegration } from "../test/payment-fixtures.js";
import { serveWarnings } from "./server-commands.js";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
useEnvTestDatabase();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `psphub serve` as a child process; a server that starts is stopped after 20 s (and fails the test). */
function serve(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), "psphub-serve-"));
  dirs.push(dataDir);
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "apps/server/src/psphub.ts", "serve"],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: "0", DATA_DIR: dataDir, ...env },
      encoding: "utf8",
      timeout: 20_000,
    },
  );
  return { status: r.status, stderr: r.stderr, dataDir };
}

describe("psphub serve without ENCRYPTION_KEY", () => {
  it("refuses on PostgreSQL, and with an https PUBLIC_BASE_URL, saying ENCRYPTION_KEY is required", () => {
    for (const env of [
      // A database that does not exist: the refusal comes before any connection.
      { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/psphub_no_such_database" },
      { PUBLIC_BASE_URL: "https://crm.example.com" },
    ] as Record<string, string>[]) {
      const r = serve(env);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/ENCRYPTION_KEY is required (on PostgreSQL|with an https PUBLIC_BASE_URL)/);
    }
  });
});

describe("serve's start-up warnings", () => {
  const base = { LOG_LEVEL: "silent" };
  it("names the key file inside DATA_DIR when no ENCRYPTION_KEY is given", () => {
    const w = serveWarnings(loadConfig({ ...base, DATA_DIR: "/srv/psphub" }));
    expect(w.join("\n")).toMatch(/\/srv\/psphub\/secret\.key.*backups/);
    expect(
      serveWarnings(loadConfig({ ...base, ENCRYPTION_KEY: randomBytes(32).toString("base64") })),
    ).toEqual([]);
  });

  it("says /metrics is open when METRICS_TOKEN is unset in production: PostgreSQL or https", () => {
    const key = randomBytes(32).toString("base64");
    for (const env of [
      { DATABASE_URL: "postgres://u@db/psphub" },
      { PUBLIC_BASE_URL: "https://crm.example.com" },
    ] as Record<string, string>[]) {
      expect(serveWarnings(loadConfig({ ...base, ENCRYPTION_KEY: key, ...env })).join("\n")).toMatch(
        /METRICS_TOKEN/,
      );
      expect(
        serveWarnings(
          loadConfig({
            ...base,
            ENCRYPTION_KEY: key,
            METRICS_TOKEN: randomBytes(16).toString("hex"),
            ...env,
          }),
        ),
      ).toEqual([]);
    }
    // A local SQLite on http is not production.
    expect(serveWarnings(loadConfig({ ...base, ENCRYPTION_KEY: key })).join("\n")).not.toMatch(
      /METRICS_TOKEN/,
    );
  });
});

describe("psphub keys reencrypt", () => {
  let tenantId: string;
  beforeAll(async () => {
    const ctx = createAppContext(loadConfig());
    await migrateToLatest(ctx.db);
    ({ tenantId } = await createTenant(ctx, {
      slug: "keycorp",
      name: "Key Corp",
      owner: { email: "owner@keycorp.test", name: "Owner", password: "owner password 1" },
    }));
    await ctx.close();
  });

  it("reseals every token under ENCRYPTION_KEY, prints what it did, and a second run reseals nothing", async () => {
    const oldKey = process.env.ENCRYPTION_KEY!;
    const ctx = createAppContext(loadConfig());
    const { integrationId, token } = await insertIntegration(ctx, tenantId);
    await ctx.close();
    const newKey = randomBytes(32);
    process.env.ENCRYPTION_KEY = newKey.toString("base64");
    process.env.ENCRYPTION_KEY_PREVIOUS = oldKey;
    try {
      const first = await runPsphub(["keys", "reencrypt"]);
      expect(first).toMatchObject({ code: 0 });
      expect(first.out).toMatch(/1 integration.* resealed 1/);
      const second = await runPsphub(["keys", "reencrypt"]);
      expect(second).toMatchObject({ code: 0 });
      expect(second.out).toMatch(/resealed 0/);
      delete process.env.ENCRYPTION_KEY_PREVIOUS;
      const after = createAppContext(loadConfig());
      const row = await after.db
        .selectFrom("psp_integrations")
        .select("token_enc")
        .where("id", "=", integrationId)
        .executeTakeFirstOrThrow();
      await after.close();
      expect(new SecretBox(newKey).open(row.token_enc)).toBe(token);
      // Without the previous key a token that is not under the current one is reported: exit 1.
      process.env.ENCRYPTION_KEY = randomBytes(32).toString("base64");
      const lost = await runPsphub(["keys", "reencrypt"]);
      expect(lost.code).toBe(1);
      expect(lost.err).toContain(integrationId);
      expect(lost.err).toMatch(/ENCRYPTION_KEY_PREVIOUS/);
    } finally {
      process.env.ENCRYPTION_KEY = oldKey;
      delete process.env.ENCRYPTION_KEY_PREVIOUS;
    }
  });

  it("needs ENCRYPTION_KEY", async () => {
    const saved = process.env.ENCRYPTION_KEY;
    delete process.env.ENCRYPTION_KEY;
    try {
      const r = await runPsphub(["keys", "reencrypt"]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/ENCRYPTION_KEY/);
    } finally {
      process.env.ENCRYPTION_KEY = saved;
    }
  });
});
