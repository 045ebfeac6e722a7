import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, loadConfig } from "../config/config.js";
import { type RunningServer, startServer } from "../main.js";
import { createTenant } from "../modules/tenants/create-tenant.js";
import { insertPaymentSetup, type PaymentFixture } from "../test/payment-fixtures.js";
import { createTestDatabase } from "../test/test-database.js";

// Graceful shutdown, and one migration set applied at start-up.
// The real server process entry (startServer: migrate, build, listen) on a fresh, empty database
// over real HTTP. A deposit is in flight (its tenant backend holds the API-1 call) when the
// server is told to stop: new connections are refused at once, the in-flight request still
// completes with its answer, and only then does the server finish closing, database last.

let tdb: Awaited<ReturnType<typeof createTestDatabase>>;
let server: RunningServer;
let api1: Server;
let api1Received!: Promise<void>;
let release!: () => void;
let fx: PaymentFixture;
let slug: string;

beforeAll(async () => {
  let received!: () => void;
  api1Received = new Promise<void>((r) => {
    received = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  api1 = createServer((req, res) => {
    req.resume();
    req.on("end", async () => {
      received();
      await released;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { url: "https://pay.example.com/p/1" }, result: true, msg: "" }));
    });
  });
  await new Promise<void>((r) => api1.listen(0, "127.0.0.1", r));

  tdb = await createTestDatabase();
  const config: Config = {
    ...loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      EXPIRY_SWEEP_SECONDS: "0",
      PUBLIC_BASE_URL: "https://crm.test",
    }),
    database: tdb.database,
    dataDir: tdb.dataDir,
    encryptionKey: randomBytes(32),
    allowPrivateAppUrls: true,
  };
  server = await startServer(config);
  slug = `gs${randomBytes(3).toString("hex")}`;
  const { tenantId } = await createTenant(server.ctx, {
    slug,
    name: "Shutdown Ltd",
    owner: { email: `owner@${slug}.test`, name: "Owner", password: "owner password 1" },
  });
  fx = await insertPaymentSetup(server.ctx, tenantId, {
    appUrl: `http://127.0.0.1:${(api1.address() as AddressInfo).port}`,
    api1TimeoutMs: 30_000,
  });
});

afterAll(async () => {
  release?.();
  await server?.stop();
  await new Promise((r) => api1?.close(r));
  await tdb?.drop();
});

describe("start-up and graceful shutdown", () => {
  it("migrated the empty database at start-up and is ready", async () => {
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", database: tdb.database.kind });
    const migrations = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
      server.ctx.db,
    );
    expect(migrations.rows.map((r) => r.name)).toContain("0001-initial");
  });

  it("finishes the request in flight, refuses new ones, then closes the database", async () => {
    const login = await fetch(`${server.url}/api/portal/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: slug, email: fx.clientEmail, password: fx.clientPassword }),
    });
    expect(login.status).toBe(200);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");

    const inFlight = fetch(`${server.url}/api/portal/deposits`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "x-csrf-token": csrfToken },
      body: JSON.stringify({ methodId: fx.methodId, currency: "USD", amount: "100.00" }),
    });
    const early = await Promise.race([
      inFlight.then(async (r) => `${r.status} ${await r.clone().text()}`),
      api1Received.then(() => ""),
    ]);
    expect(early).toBe("");
    await api1Received; // the deposit request is inside the server, waiting on API-1

    let stopped = false;
    const stopping = server.stop().then(() => {
      stopped = true;
    });

    // New requests are refused while the one in flight is still being served.
    let refused = false;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        const res = await fetch(`${server.url}/healthz`, { headers: { connection: "close" } });
        refused = res.status === 503;
      } catch {
        refused = true;
      }
      if (!refused) await new Promise((r) => setTimeout(r, 50));
    }
    expect(refused).toBe(true);
    expect(stopped).toBe(false);
    // The database is still open for the request in flight.
    await expect(sql`select 1`.execute(server.ctx.db)).resolves.toBeDefined();

    release();
    const res = await inFlight;
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ status: "pending", paymentUrl: "https://pay.example.com/p/1" });

    await stopping;
    expect(stopped).toBe(true);
    // Closed last: nothing can use the database any more.
    await expect(sql`select 1`.execute(server.ctx.db)).rejects.toThrow();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});
