import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../app.js";
import { type AppContext, createAppContext } from "../../app-context.js";
import {
  callbackFields,
  callbackJson,
  depositRow,
  insertDeposit,
  ledgerEntriesOf,
  sendCallback,
  sendCallbackHttp,
  type TestDeposit,
  walletBalance,
} from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { createTenant } from "../tenants/create-tenant.js";

// Exactly-once crediting under duplicate storms (docs/failure-modes.md#failure-mode-2): many
// identical success callbacks at once, in one process, over real HTTP, and from several server
// processes sharing one PostgreSQL database. Durations are printed as figures, never asserted.

const STORM = 200;
const REPO_ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));
let t: TestApp;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp();
  const { tenantId } = await createTenant(t.ctx, {
    slug: "storm",
    name: "Storm",
    owner: { email: "owner@storm.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
  await t.app.listen({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

const baseUrl = (app: FastifyInstance) => {
  const a = app.server.address();
  if (!a || typeof a === "string") throw new Error("not listening");
  return `http://127.0.0.1:${a.port}`;
};

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const out = await fn();
  const ms = performance.now() - started;
  console.log(`[figure] ${testDbKind()}: ${label}: ${ms.toFixed(0)} ms`);
  return out;
}

/** One credit of the order's amount, every answer 204, one accepted and the rest duplicates. */
async function expectOneCredit(dep: TestDeposit, statuses: number[], balanceBefore: bigint) {
  expect(statuses.filter((s) => s !== 204)).toEqual([]);
  expect((await depositRow(t.ctx, dep.id)).status).toBe("succeeded");
  expect((await ledgerEntriesOf(t.ctx, dep.id)).map((e) => e.amount_minor)).toEqual([9_720]);
  expect(await walletBalance(t.ctx, fx.clientId)).toBe(balanceBefore + 9_720n);
  const verdicts = await t.ctx.db
    .selectFrom("callback_logs")
    .select("verdict")
    .where("order_no", "=", dep.orderNo)
    .execute();
  expect(verdicts.filter((v) => v.verdict === "accepted")).toHaveLength(1);
  expect(verdicts.filter((v) => v.verdict === "duplicate")).toHaveLength(statuses.length - 1);
}

describe(`${STORM} identical success callbacks at once`, () => {
  it("through app.inject: one credit, every answer 204", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const balance = await walletBalance(t.ctx, fx.clientId);
    const body = callbackJson(callbackFields(fx, dep), fx.token);
    const res = await timed(`${STORM} callbacks via app.inject`, () =>
      Promise.all(Array.from({ length: STORM }, () => sendCallback(t.app, body, { token: fx.token }))),
    );
    await expectOneCredit(
      dep,
      res.map((r) => r.statusCode),
      balance,
    );
  });

  it("over real HTTP: one credit, every answer 204", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const balance = await walletBalance(t.ctx, fx.clientId);
    const body = callbackJson(callbackFields(fx, dep), fx.token);
    const res = await timed(`${STORM} callbacks over HTTP`, () =>
      Promise.all(
        Array.from({ length: STORM }, () => sendCallbackHttp(baseUrl(t.app), body, { token: fx.token })),
      ),
    );
    await expectOneCredit(
      dep,
      res.map((r) => r.status),
      balance,
    );
  });

  it("success and failure storms racing: one final status, at most one credit, no 500", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const ok = callbackJson(callbackFields(fx, dep), fx.token);
    const ko = callbackJson(callbackFields(fx, dep, { status: 0 }), fx.token);
    const res = await Promise.all(
      Array.from({ length: STORM }, (_, i) => sendCallback(t.app, i % 2 ? ok : ko, { token: fx.token })),
    );
    const final = (await depositRow(t.ctx, dep.id)).status;
    expect(["succeeded", "failed"]).toContain(final);
    expect((await ledgerEntriesOf(t.ctx, dep.id)).length).toBe(final === "succeeded" ? 1 : 0);
    for (const r of res) {
      expect([204, 400]).toContain(r.statusCode);
      if (r.statusCode === 400) expect(r.json().type).toBe("payment_status_not_pending");
    }
    // The losing status is kept once as a conflict, however many times it arrived.
    const items = await t.ctx.db
      .selectFrom("review_items")
      .select("reason")
      .where("deposit_id", "=", dep.id)
      .execute();
    expect(items.map((i) => i.reason)).toEqual(["conflict"]);
  });
});

describe("several server processes sharing one database", () => {
  const pgOnly = testDbKind() === "postgres";

  it.skipIf(!pgOnly)(
    "two in-process servers, separate contexts and pools, callbacks split between them: one credit (PostgreSQL only: SQLite allows one writer process)",
    async () => {
      const ctx2: AppContext = createAppContext(t.ctx.config, { logger: t.ctx.logger });
      const app2 = await buildApp(ctx2);
      try {
        await app2.listen({ host: "127.0.0.1", port: 0 });
        const dep = await insertDeposit(t.ctx, fx);
        const balance = await walletBalance(t.ctx, fx.clientId);
        const body = callbackJson(callbackFields(fx, dep), fx.token);
        const urls = [baseUrl(t.app), baseUrl(app2)];
        const res = await timed(`${STORM} callbacks split over 2 in-process servers (HTTP)`, () =>
          Promise.all(
            Array.from({ length: STORM }, (_, i) =>
              sendCallbackHttp(urls[i % 2]!, body, { token: fx.token }),
            ),
          ),
        );
        await expectOneCredit(
          dep,
          res.map((r) => r.status),
          balance,
        );
      } finally {
        await app2.close();
        await ctx2.close();
      }
    },
  );

  it.skipIf(!pgOnly)(
    "a real child server process (psphub serve) and this one, callbacks split between them: one credit (PostgreSQL only: SQLite allows one writer process)",
    async () => {
      const cfg = t.ctx.config;
      if (cfg.database.kind !== "postgres" || !cfg.encryptionKey)
        throw new Error("needs the PostgreSQL test config");
      const dataDir = mkdtempSync(join(tmpdir(), "psphub-child-"));
      let child: ChildProcess | undefined;
      try {
        child = spawn(
          process.execPath,
          ["--conditions=source", "--import", "tsx", "apps/server/src/psphub.ts", "serve"],
          {
            cwd: REPO_ROOT,
            env: {
              PATH: process.env.PATH,
              DATABASE_URL: cfg.database.url,
              ENCRYPTION_KEY: cfg.encryptionKey.toString("base64"),
              HOST: "127.0.0.1",
              PORT: "0",
              PUBLIC_BASE_URL: "https://crm.test",
              DATA_DIR: dataDir,
              EXPIRY_SWEEP_SECONDS: "0",
              LOG_LEVEL: "warn",
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        const childUrl = await timed("child server start-up", () => listeningUrl(child!));
        const dep = await insertDeposit(t.ctx, fx);
        const balance = await walletBalance(t.ctx, fx.clientId);
        const body = callbackJson(callbackFields(fx, dep), fx.token);
        const urls = [baseUrl(t.app), childUrl];
        const res = await timed(`${STORM} callbacks split over this process and a child process (HTTP)`, () =>
          Promise.all(
            Array.from({ length: STORM }, (_, i) =>
              sendCallbackHttp(urls[i % 2]!, body, { token: fx.token }),
            ),
          ),
        );
        await expectOneCredit(
          dep,
          res.map((r) => r.status),
          balance,
        );
      } finally {
        if (child && child.exitCode === null) {
          const exited = new Promise((resolve) => child!.once("exit", resolve));
          child.kill("SIGTERM");
          await exited;
        }
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/** Waits for `psphub listening on <url>` on the child's stdout. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`child did not start:\n${out}`)), 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /psphub listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}:\n${out}`));
    });
  });
}
