import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app.js";
import { type AppContext, createAppContext } from "../../app-context.js";
import { type Config, ConfigError } from "../../config/config.js";
import { startServer } from "../../main.js";
import { reencryptTokens } from "../../modules/psp-integrations/reencrypt-tokens.js";
import { createTenant } from "../../modules/tenants/create-tenant.js";
import { insertDeposit, sendSignedCallback } from "../../test/callback-client.js";
import { insertIntegration, insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, seedTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { SecretBox } from "./secret-box.js";

// One key for every process, rotation with ENCRYPTION_KEY_PREVIOUS and
// `psphub keys reencrypt`, and a previous token that cannot be opened never breaking the current.

let t: TestApp;
let tenantId: string;
const opened: { ctx: AppContext; app?: FastifyInstance }[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "keys",
    name: "Keys",
    owner: { email: "owner@keys.test", name: "Owner", password: "correct horse battery" },
  }));
});
afterAll(async () => {
  for (const o of opened) {
    await o.app?.close();
    await o.ctx.close();
  }
  await t?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Another process on the same database: its own context, pool and data directory. */
async function process2(keys: Partial<Pick<Config, "encryptionKey" | "previousEncryptionKey">>) {
  const dataDir = mkdtempSync(join(tmpdir(), "psphub-proc-"));
  dirs.push(dataDir);
  const ctx = createAppContext(
    {
      ...t.ctx.config,
      dataDir,
      encryptionKey: keys.encryptionKey,
      previousEncryptionKey: keys.previousEncryptionKey,
    },
    { logger: t.ctx.logger },
  );
  const app = await buildApp(ctx);
  await app.ready();
  opened.push({ ctx, app });
  return { ctx, app, dataDir };
}

const callbackThrough = async (app: FastifyInstance, ctx: AppContext, fx: PaymentFixture, token = fx.token) =>
  (await sendSignedCallback(app, { ...fx, token }, await insertDeposit(ctx, fx))).statusCode;

describe.skipIf(testDbKind() !== "postgres")("PostgreSQL without ENCRYPTION_KEY", () => {
  it("no process makes a key of its own: sealing refuses, naming ENCRYPTION_KEY, and no key file is written", async () => {
    const a = await process2({});
    await expect(insertIntegration(a.ctx, tenantId)).rejects.toThrow(ConfigError);
    await expect(insertIntegration(a.ctx, tenantId)).rejects.toThrow(
      /ENCRYPTION_KEY is required on PostgreSQL/,
    );
    expect(existsSync(join(a.dataDir, "secret.key"))).toBe(false);
  });
});

describe("several processes, one key", () => {
  it("an integration made through one process takes callbacks through another with the same ENCRYPTION_KEY", async () => {
    const key = randomBytes(32);
    const a = await process2({ encryptionKey: key });
    const b = await process2({ encryptionKey: key });
    const fx = await insertPaymentSetup(a.ctx, tenantId);
    expect(await callbackThrough(b.app, b.ctx, fx)).toBe(204);
  });
});

describe("a previous token that cannot be opened", () => {
  it("never breaks the current one: callbacks with the current token keep working", async () => {
    const key = randomBytes(32);
    const p = await process2({ encryptionKey: key });
    for (const prev of [
      new SecretBox(randomBytes(32)).seal("sealed-under-a-lost-key"),
      "v1.broken",
      "garbage",
    ]) {
      const fx = await insertPaymentSetup(p.ctx, tenantId);
      await p.ctx.db
        .updateTable("psp_integrations")
        .set({ prev_token_enc: prev, prev_token_expires_at: Date.now() + 3_600_000 })
        .where("id", "=", fx.integrationId)
        .execute();
      expect(await callbackThrough(p.app, p.ctx, fx)).toBe(204);
      // …and the unreadable previous token is accepted by nothing.
      expect(await callbackThrough(p.app, p.ctx, fx, "sealed-under-a-lost-key")).not.toBe(204);
    }
  });
});

describe("key rotation: ENCRYPTION_KEY_PREVIOUS, then psphub keys reencrypt", () => {
  it("opens tokens sealed with the previous key, reseals every one under the current key, and a second run changes nothing", async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = await process2({ encryptionKey: oldKey });
    const fxs = [
      await insertPaymentSetup(before.ctx, tenantId),
      await insertPaymentSetup(before.ctx, tenantId),
    ];
    // The first also has a previous token in its grace period, sealed with the old key.
    const oldBox = new SecretBox(oldKey);
    await before.ctx.db
      .updateTable("psp_integrations")
      .set({ prev_token_enc: oldBox.seal("the-token-before"), prev_token_expires_at: Date.now() + 3_600_000 })
      .where("id", "=", fxs[0]!.integrationId)
      .execute();

    // Restarted with the new key and the old one as previous: every token still works.
    const rotating = await process2({ encryptionKey: newKey, previousEncryptionKey: oldKey });
    for (const fx of fxs) expect(await callbackThrough(rotating.app, rotating.ctx, fx)).toBe(204);
    expect(await callbackThrough(rotating.app, rotating.ctx, fxs[0]!, "the-token-before")).toBe(204);

    const ids = fxs.map((f) => f.integrationId);
    const mine = async () =>
      t.ctx.db
        .selectFrom("psp_integrations")
        .select(["id", "token_enc", "prev_token_enc"])
        .where("id", "in", ids)
        .execute();
    const sealedBefore = await mine();
    const first = await reencryptTokens(rotating.ctx);
    // (Other tests' integrations, sealed with keys of their own, are reported unreadable.)
    expect(first.unreadable.filter((id) => ids.includes(id))).toEqual([]);
    expect(first.resealed).toBeGreaterThanOrEqual(2);
    const sealedAfter = await mine();
    const newBox = new SecretBox(newKey);
    for (const row of sealedAfter) {
      expect(newBox.sealedWithCurrent(row.token_enc)).toBe(true);
      if (row.prev_token_enc) expect(newBox.sealedWithCurrent(row.prev_token_enc)).toBe(true);
      // Same tokens, new ciphertexts.
      const was = sealedBefore.find((r) => r.id === row.id)!;
      expect(row.token_enc).not.toBe(was.token_enc);
      expect(newBox.open(row.token_enc)).toBe(oldBox.open(was.token_enc));
    }

    // Idempotent: nothing left to reseal, nothing rewritten.
    const second = await reencryptTokens(rotating.ctx);
    expect(second.resealed).toBe(0);
    expect(second.unreadable).toEqual(first.unreadable);
    expect(await mine()).toEqual(sealedAfter);

    // The previous key can go: a process with the new key alone takes every token.
    const after = await process2({ encryptionKey: newKey });
    for (const fx of fxs) expect(await callbackThrough(after.app, after.ctx, fx)).toBe(204);
    expect(await callbackThrough(after.app, after.ctx, fxs[0]!, "the-token-before")).toBe(204);
  });

  it("is safe beside a running server: a token rotated between its read and its write is read again, not overwritten", async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const before = await process2({ encryptionKey: oldKey });
    const fx = await insertPaymentSetup(before.ctx, tenantId);
    const newBox = new SecretBox(newKey);
    const rotatedTo = newBox.seal("rotated-meanwhile");
    let rotated = false;
    // Another server rotates the token right after reencrypt has read its page of rows.
    const racing = t.ctx.db.withPlugin({
      transformQuery: (a) => a.node,
      transformResult: async (a) => {
        if (!rotated && a.result.rows.some((r) => (r as { id?: string }).id === fx.integrationId)) {
          rotated = true;
          // Through another connection, as another process would (SQLite: one connection each).
          const row = await before.ctx.db
            .selectFrom("psp_integrations")
            .select("token_enc")
            .where("id", "=", fx.integrationId)
            .executeTakeFirstOrThrow();
          await before.ctx.db
            .updateTable("psp_integrations")
            .set({
              token_enc: rotatedTo,
              prev_token_enc: row.token_enc,
              prev_token_expires_at: Date.now() + 3_600_000,
            })
            .where("id", "=", fx.integrationId)
            .execute();
        }
        return a.result;
      },
    });
    await reencryptTokens({ db: racing, secretBox: new SecretBox(newKey, oldKey) });
    expect(rotated).toBe(true);
    const row = await t.ctx.db
      .selectFrom("psp_integrations")
      .select(["token_enc", "prev_token_enc"])
      .where("id", "=", fx.integrationId)
      .executeTakeFirstOrThrow();
    expect(row.token_enc).toBe(rotatedTo);
    expect(newBox.open(row.prev_token_enc!)).toBe(fx.token);
  });

  it("leaves a token that neither key opens as it is and reports its integration", async () => {
    const lostKey = randomBytes(32);
    const key = randomBytes(32);
    const lost = await process2({ encryptionKey: lostKey });
    const { integrationId } = await insertIntegration(lost.ctx, tenantId);
    const stored = await t.ctx.db
      .selectFrom("psp_integrations")
      .select("token_enc")
      .where("id", "=", integrationId)
      .executeTakeFirstOrThrow();
    const p = await process2({ encryptionKey: key, previousEncryptionKey: randomBytes(32) });
    const r = await reencryptTokens(p.ctx);
    expect(r.unreadable).toContain(integrationId);
    const now = await t.ctx.db
      .selectFrom("psp_integrations")
      .select("token_enc")
      .where("id", "=", integrationId)
      .executeTakeFirstOrThrow();
    expect(now.token_enc).toBe(stored.token_enc);
    // Tidy up: the other tests' start-up checks read the newest integration.
    await t.ctx.db.deleteFrom("psp_integrations").where("id", "=", integrationId).execute();
  });
});

describe("a current token that no key opens", () => {
  it("reveal answers 409 token_unreadable (not 500), and a rotation makes a new token that reveals", async () => {
    const s = await seedTenant(t);
    const lost = await process2({ encryptionKey: randomBytes(32) });
    const { integrationId } = await insertIntegration(lost.ctx, s.tenantId);
    const reveal = await s.owner.post(`/api/admin/integrations/${integrationId}/reveal`);
    expect(reveal.statusCode).toBe(409);
    expect(reveal.json()).toMatchObject({ error: { code: "token_unreadable" } });
    expect(reveal.body).toMatch(/ENCRYPTION_KEY/);
    const rotated = await s.owner.post(`/api/admin/integrations/${integrationId}/rotate-token`, {
      graceHours: 0,
    });
    expect(rotated.statusCode).toBe(200);
    const again = await s.owner.post(`/api/admin/integrations/${integrationId}/reveal`);
    expect(again.statusCode).toBe(200);
    expect(again.json().token).toEqual(expect.any(String));
  });
});

describe("start-up: the key must open a stored token", () => {
  const serverConfig = (keys: Pick<Config, "encryptionKey" | "previousEncryptionKey">): Config => {
    const dataDir = mkdtempSync(join(tmpdir(), "psphub-start-"));
    dirs.push(dataDir);
    return {
      ...t.ctx.config,
      ...keys,
      dataDir,
      host: "127.0.0.1",
      port: 0,
      expirySweepMs: 0,
      logLevel: "silent",
    };
  };

  it("refuses to start with a key that does not open the newest integration token, naming ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS; starts with it as the previous key", async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const p = await process2({ encryptionKey: oldKey });
    await insertIntegration(p.ctx, tenantId);
    const refused = startServer(serverConfig({ encryptionKey: newKey }));
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(startServer(serverConfig({ encryptionKey: newKey }))).rejects.toThrow(
      /ENCRYPTION_KEY does not open.*ENCRYPTION_KEY_PREVIOUS/s,
    );
    const server = await startServer(serverConfig({ encryptionKey: newKey, previousEncryptionKey: oldKey }));
    await server.stop();
    const same = await startServer(serverConfig({ encryptionKey: oldKey }));
    await same.stop();
  });
});
