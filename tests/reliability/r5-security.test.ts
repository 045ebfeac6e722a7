import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkAppUrl } from "../../apps/server/src/infra/http-out/address-policy.js";
import { createGuardedClient, type Resolver } from "../../apps/server/src/infra/http-out/guarded-client.js";
import { createDeposit } from "../../apps/server/src/modules/deposits/create-deposit.js";
import { type Api1Stub, startApi1Stub, successAnswer } from "../../apps/server/src/test/api1-stub.js";
import { insertPaymentSetup, type PaymentFixture } from "../../apps/server/src/test/payment-fixtures.js";
import {
  createTestApp,
  loginClient,
  type Session,
  seedTenant,
  type TestApp,
} from "../../apps/server/src/test/test-app.js";
import { REPO_ROOT } from "../support/processes.js";
import { seed } from "../support/seed.js";
import { cleanUp, freshDatabase, linesMentioning, serve } from "./support/harness.js";

// R5: security under attack.
//
// Gathered, not duplicated (run by the "security" project of vitest.reliability.config.ts on
// SQLite, and by `npm test` on both databases):
//   - RBAC matrix over every route ............ apps/server/src/security/rbac-matrix.db.test.ts
//   - tenant-isolation matrix over every route  apps/server/src/security/tenant-isolation.db.test.ts
//   - CSRF on cookie-authenticated writes ..... apps/server/src/security/csrf.db.test.ts
//   - login brute force ....................... apps/server/src/security/login-rate-limit.db.test.ts
//   - the token in no log line or response .... apps/server/src/security/secrets-in-logs.db.test.ts
//   - SSRF guard and address policy .......... apps/server/src/infra/http-out/*.test.ts
// Added here: SSRF on save and at call time with every address form (IPv6, IPv4-mapped, decimal,
// octal, hex, short), names resolving to private addresses (injected resolver), DNS rebinding,
// redirects and unsafe payment URLs; and, against a real `psphub serve` process over HTTP, the
// login limit, CSRF and the token's absence from the process's own log output.

const GATHERED = [
  "apps/server/src/security/rbac-matrix.db.test.ts",
  "apps/server/src/security/tenant-isolation.db.test.ts",
  "apps/server/src/security/csrf.db.test.ts",
  "apps/server/src/security/login-rate-limit.db.test.ts",
  "apps/server/src/security/secrets-in-logs.db.test.ts",
  "apps/server/src/infra/http-out/guarded-client.test.ts",
  "apps/server/src/infra/http-out/address-policy.test.ts",
];

/** Loopback and private targets written every way a URL can write them (the stub's port appended). */
const LOOPBACK_FORMS = [
  "127.0.0.1",
  "127.1",
  "2130706433",
  "0x7f000001",
  "0177.0.0.1",
  "0x7f.0.0.1",
  "[::1]",
  "[0:0:0:0:0:0:0:1]",
  "[::ffff:127.0.0.1]",
  "[::ffff:7f00:1]",
  "0.0.0.0",
  "[::]",
  "localhost",
];
const OTHER_PRIVATE = [
  "10.0.0.1",
  "172.16.0.1",
  "192.168.1.1",
  "169.254.169.254",
  "[fe80::1]",
  "[fc00::1]",
  "[fd12:3456::1]",
  "100.64.0.1",
  "224.0.0.1",
  "[ff02::1]",
  "[::ffff:169.254.169.254]",
  "[::ffff:a00:1]",
  "167772161",
];

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
const stubs: Api1Stub[] = [];

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: false } });
  tenant = await seedTenant(t);
});
afterAll(async () => {
  for (const s of stubs) await s.close();
  await t?.close();
  await cleanUp();
});

async function stub(): Promise<Api1Stub> {
  const s = await startApi1Stub();
  stubs.push(s);
  return s;
}

describe("R5 gathered security suites", () => {
  it("the route matrices and SSRF suites this file relies on are present", () => {
    for (const f of GATHERED) expect(existsSync(join(REPO_ROOT, f)), f).toBe(true);
  });
});

describe("R5 SSRF on save (APP_URL through the admin API, private addresses not allowed)", () => {
  it.each([...LOOPBACK_FORMS, ...OTHER_PRIVATE])("refuses https://%s", async (host) => {
    const res = await tenant.owner.post("/api/admin/integrations", {
      name: "x",
      appUrl: `https://${host}/psp`,
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.issues.map((i: { path: string }) => i.path)).toContain("appUrl");
  });

  it("refuses the same forms when an existing integration is changed", async () => {
    const ok = await tenant.owner.post("/api/admin/integrations", {
      name: "ok",
      appUrl: "https://93.184.216.34/psp",
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const id = ok.json().id as string;
    for (const host of ["[::ffff:127.0.0.1]", "2130706433", "169.254.169.254", "localhost"]) {
      const res = await tenant.owner.patch(`/api/admin/integrations/${id}`, { appUrl: `https://${host}` });
      expect(res.statusCode, host).toBe(400);
    }
  });

  it("refuses a name that resolves to a private address, or to any private among public ones", async () => {
    const resolving = (addrs: string[]) => ({ allowPrivate: false, resolve: async () => addrs });
    for (const addrs of [
      ["10.1.2.3"],
      ["93.184.216.34", "127.0.0.1"],
      ["::1"],
      ["::ffff:10.0.0.1"],
      ["169.254.169.254"],
      ["fd00::1"],
    ]) {
      const r = await checkAppUrl("https://psp.example.test", resolving(addrs));
      expect(r.ok, addrs.join(",")).toBe(false);
    }
    expect((await checkAppUrl("https://psp.example.test", resolving(["93.184.216.34"]))).ok).toBe(true);
  });
});

describe("R5 SSRF at call time (API-1 with a stored APP_URL that now points inside)", () => {
  let fx: PaymentFixture;
  let portal: Session;
  let target: Api1Stub;

  beforeAll(async () => {
    target = await stub();
    fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: "https://93.184.216.34" });
    target.token = fx.token;
    portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
  });

  const setAppUrl = (url: string) =>
    t.ctx.db
      .updateTable("psp_integrations")
      .set({ app_url: url })
      .where("id", "=", fx.integrationId)
      .execute();
  const failureOf = (orderNo: string) =>
    t.ctx.db
      .selectFrom("deposits")
      .select(["status", "failure_reason"])
      .where("order_no", "=", orderNo)
      .executeTakeFirstOrThrow();

  it.each(LOOPBACK_FORMS)("never connects to http://%s:<port of a live loopback backend>", async (host) => {
    await setAppUrl(`http://${host}:${target.port}`);
    const res = await portal.post("/api/portal/deposits", {
      methodId: fx.methodId,
      currency: "USD",
      amount: "50.00",
    });
    expect(res.statusCode, res.body).toBe(502);
    const row = await failureOf(res.json().orderNo);
    expect(row.status).toBe("failed");
    expect(row.failure_reason).toMatch(/^blocked_address|^dns_failure/);
    expect(target.requests).toHaveLength(0);
  });

  const viaResolver = async (resolve: Resolver, appUrl: string) => {
    const httpOut = createGuardedClient({ allowPrivate: false, lookup: resolve });
    try {
      await setAppUrl(appUrl);
      return await createDeposit(
        { ...t.ctx, httpOut },
        { kind: "client", tenantId: tenant.tenantId, clientId: fx.clientId },
        { methodId: fx.methodId, currency: "USD", amount: "50.00" },
      );
    } finally {
      await httpOut.close();
    }
  };

  it("blocks a name whose DNS answer is private (injected resolver), for every private range", async () => {
    for (const [address, family] of [
      ["127.0.0.1", 4],
      ["10.0.0.7", 4],
      ["169.254.169.254", 4],
      ["::1", 6],
      ["::ffff:127.0.0.1", 6],
      ["fe80::1", 6],
    ] as const) {
      const view = await viaResolver(
        async () => [{ address, family }],
        `http://psp.example.test:${target.port}`,
      );
      expect(view.status, address).toBe("failed");
      expect((await failureOf(view.orderNo)).failure_reason).toMatch(/^blocked_address/);
    }
    expect(target.requests).toHaveLength(0);
  });

  it("DNS rebinding: public when saved, loopback when called → blocked at connect time", async () => {
    let calls = 0;
    const rebinding: Resolver = async () =>
      calls++ === 0 ? [{ address: "93.184.216.34", family: 4 }] : [{ address: "127.0.0.1", family: 4 }];
    const saved = await checkAppUrl("https://rebind.example.test", {
      allowPrivate: false,
      resolve: async (h) => (await rebinding(h)).map((a) => a.address),
    });
    expect(saved.ok).toBe(true);
    const view = await viaResolver(rebinding, `http://rebind.example.test:${target.port}`);
    expect(view.status).toBe("failed");
    expect(target.requests).toHaveLength(0);
  });

  it("a name with one public and one private address is refused as a whole", async () => {
    const view = await viaResolver(
      async () => [
        { address: "93.184.216.34", family: 4 },
        { address: "127.0.0.1", family: 4 },
      ],
      `http://mixed.example.test:${target.port}`,
    );
    expect((await failureOf(view.orderNo)).failure_reason).toMatch(/^blocked_address/);
    expect(target.requests).toHaveLength(0);
  });
});

describe("R5 redirects and unsafe payment URLs from API-1", () => {
  let fx: PaymentFixture;
  let backend: Api1Stub;

  beforeAll(async () => {
    backend = await stub();
    fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: backend.url });
    backend.token = fx.token;
    // These cases fail API-1 on purpose, one after another: the circuit breaker would open after
    // five and refuse the rest before any call (api1-breaker.db.test.ts covers that).
    const off = await tenant.owner.put(`/api/admin/integrations/${fx.integrationId}/breaker/mode`, {
      mode: "off",
    });
    expect(off.statusCode, off.body).toBe(200);
  });

  /** A deposit with private addresses allowed for the loopback backend itself. */
  const depositVia = async () => {
    const httpOut = createGuardedClient({ allowPrivate: true });
    try {
      return await createDeposit(
        { ...t.ctx, httpOut, config: { ...t.ctx.config, allowPrivateAppUrls: true } },
        { kind: "client", tenantId: tenant.tenantId, clientId: fx.clientId },
        { methodId: fx.methodId, currency: "USD", amount: "50.00" },
      );
    } finally {
      await httpOut.close();
    }
  };

  it.each([301, 302, 303, 307, 308])(
    "a %i redirect is never followed: the order fails, the target is never asked",
    async (code) => {
      backend.requests.length = 0;
      backend.respond = (req) =>
        req.path.startsWith("/internal")
          ? successAnswer(req)
          : { status: code, headers: { location: `${backend.url}/internal/metadata` }, body: "" };
      const view = await depositVia();
      expect(view.status).toBe("failed");
      expect(backend.requests.map((r) => r.path)).toEqual(["/pay/url"]);
    },
  );

  it.each([
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "http://pay.example.com/p/1",
    "//pay.example.com/p/1",
    "file:///etc/passwd",
    "https://",
  ])("refuses the payment URL %s: the order fails, nothing is stored for the portal to open", async (url) => {
    backend.respond = () => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: { url }, result: true, msg: "" }),
    });
    const view = await depositVia();
    expect(view.status).toBe("failed");
    expect(view.paymentUrl).toBeNull();
    const row = await t.ctx.db
      .selectFrom("deposits")
      .select("payment_url")
      .where("order_no", "=", view.orderNo)
      .executeTakeFirstOrThrow();
    expect(row.payment_url).toBeNull();
  });
});

describe("R5 against a real server process over HTTP", () => {
  it("login brute force is limited, CSRF is required, and the token never reaches a log line", async () => {
    const db = await freshDatabase("sqlite", "r5");
    const s = await seed(db, { clients: 1 });
    const server = await serve(db, { LOGIN_RATE_LIMIT_PER_MINUTE: "5", LOG_LEVEL: "debug" });
    const base = server.url;
    const login = (password: string) =>
      fetch(`${base}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: s.ownerEmail, password }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await login(`wrong password ${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // Once limited, even the right password waits: guessing cannot be confirmed.
    expect((await login(s.ownerPassword)).status).toBe(429);

    // CSRF: a cookie-authenticated write without the header is refused; with it, it goes through.
    const res = await fetch(`${base}/api/portal/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: s.slug, email: "client-0@bench.test", password: s.clientPassword }),
    });
    const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const write = (headers: Record<string, string>) =>
      fetch(`${base}/api/portal/deposits`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie, ...headers },
        body: JSON.stringify({ methodId: s.methodId, currency: "USD", amount: "not money" }),
      });
    expect((await write({})).status).toBe(403);
    expect((await write({ "x-csrf-token": "forged" })).status).toBe(403);
    expect((await write({ "x-csrf-token": csrfToken })).status).toBe(400);

    // Callbacks that fail on the sign log the canonical string at debug/info: never the token.
    for (const signature of ["A".repeat(40), "not hex"]) {
      const r = await fetch(`${base}/api/psp/pay/callback`, {
        method: "POST",
        headers: { "content-type": "application/json", "crm-pay-token": s.token },
        body: JSON.stringify({
          merchant_id: s.merchantId,
          order_no: "nosuchorder1",
          amount: 1,
          currency: "USD",
          time: 1,
          status: 1,
          sign: signature,
        }),
      });
      expect(r.status).toBe(400);
      expect(await r.text()).not.toContain(s.token);
    }
    await server.stop();
    expect(server.output.length).toBeGreaterThan(5);
    expect(linesMentioning(s.token)).toEqual([]);
  });
});
