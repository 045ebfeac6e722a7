import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import { loadConfig } from "../../config/config.js";
import { offlineDb } from "../../test/offline-db.js";
import type { DatabaseHandle } from "../db/database.js";
import { SecretBox } from "./secret-box.js";

// The key comes from config; the embedded default creates a key file on first run.
// Which key the running context seals tokens with, decided once per process in createAppContext.

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const noDatabase: DatabaseHandle = { db: offlineDb("sqlite"), kind: "sqlite", close: async () => {} };
const contextFor = (env: Record<string, string>) => {
  const dataDir = mkdtempSync(join(tmpdir(), "psphub-key-"));
  dirs.push(dataDir);
  const ctx = createAppContext(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env }), {
    database: noDatabase,
  });
  return { ctx, dataDir };
};

describe("the encryption key of tokens at rest", () => {
  it("is ENCRYPTION_KEY when configured, and then no key file is written", () => {
    const key = randomBytes(32);
    const { ctx, dataDir } = contextFor({ ENCRYPTION_KEY: key.toString("base64") });
    expect(new SecretBox(key).open(ctx.secretBox.seal("token-1"))).toBe("token-1");
    expect(existsSync(join(dataDir, "secret.key"))).toBe(false);
  });

  it("is a key file in DATA_DIR otherwise: created on the first run, the same on the next", () => {
    const { ctx: first, dataDir } = contextFor({});
    expect(existsSync(join(dataDir, "secret.key"))).toBe(true);
    const sealed = first.secretBox.seal("token-2");
    const second = createAppContext(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: "silent" }), {
      database: noDatabase,
    });
    expect(second.secretBox.open(sealed)).toBe("token-2");
    // A configured key is not the file's: what the file sealed, it cannot open.
    const { ctx: configured } = contextFor({ ENCRYPTION_KEY: randomBytes(32).toString("base64") });
    expect(() => configured.secretBox.open(sealed)).toThrow();
  });
});
