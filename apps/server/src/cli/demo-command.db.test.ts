import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { testDbKind } from "../test/test-database.js";
import { DEMO } from "./demo-command.js";

// `psphub demo` as a person runs it: a child process (the CLI from source), then one deposit
// driven with plain HTTP like a browser: portal login, deposit with the custom field, the
// simulator's payment page, its "Pay" form, and the wallet until the credit shows. Stopped with
// SIGINT and started again on the same data directory, the data is still there.
// The demo is the embedded SQLite default by design, so the postgres project skips it.

const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../..");
const dataDir = mkdtempSync(join(tmpdir(), "psphub-demo-test-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

type Demo = { child: ChildProcessWithoutNullStreams; out: () => string; base: string; sim: string };

/** A free port other than `not` (the second run must get a different simulator port). */
async function freePortExcept(not: number): Promise<number> {
  for (;;) {
    const srv = createServer().listen(0, "127.0.0.1");
    await once(srv, "listening");
    const { port } = srv.address() as AddressInfo;
    await new Promise((r) => srv.close(r));
    if (port !== not) return port;
  }
}

/** Starts the demo (server on a free port) and waits for its banner. */
async function startDemo(simPort = 0): Promise<Demo> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of [
    "PORT",
    "HOST",
    "DATA_DIR",
    "DATABASE_URL",
    "PUBLIC_BASE_URL",
    "ENCRYPTION_KEY",
    "LOG_LEVEL",
  ])
    delete env[k];
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "apps/server/src/psphub.ts",
      "demo",
      "--data-dir",
      dataDir,
      "--port",
      "0",
      "--sim-port",
      String(simPort),
    ],
    { cwd: ROOT, env },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`demo did not start in time:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes("Press Ctrl-C")) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`demo exited with ${code}:\n${out}`));
    });
  });
  const base = /Client portal\s+(http:\/\/\S+)\/portal\//.exec(out)?.[1];
  const sim = /Simulator\s+(http:\/\/\S+)/.exec(out)?.[1];
  if (!base || !sim) throw new Error(`no URLs in the banner:\n${out}`);
  return { child, out: () => out, base, sim };
}

/** Runs the demo expecting it to refuse to start: its exit code and everything it printed. */
async function failedStart(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "apps/server/src/psphub.ts", "demo", ...args],
    { cwd: ROOT, env: { ...process.env, PORT: "", PSP_SIM_PORT: "", DATA_DIR: "", DATABASE_URL: "" } },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, out };
}

/** Ctrl-C: both stop gracefully and the process exits 0. */
async function stopDemo(demo: Demo): Promise<void> {
  const exited = new Promise<number | null>((done) => demo.child.once("exit", (code) => done(code)));
  demo.child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(demo.out()).toContain("psphub demo: stopped.");
}

/** A portal session over plain HTTP: the session cookie and the CSRF token from the login JSON. */
async function portalLogin(base: string) {
  const res = await fetch(`${base}/api/portal/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: DEMO.tenantSlug, email: DEMO.clientEmail, password: DEMO.clientPassword }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const body = (await res.json()) as { me: { id: string }; csrfToken: string };
  const call = async (method: string, path: string, json?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        cookie,
        ...(json === undefined ? {} : { "content-type": "application/json", "x-csrf-token": body.csrfToken }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  const usd = async () => {
    const w = (await call("GET", "/api/portal/wallets")).json as {
      items: Array<{ currency: string; balance: string }>;
    };
    return w.items.find((i) => i.currency === "USD")?.balance ?? "0.00";
  };
  return { clientId: body.me.id, call, usd };
}

type Portal = Awaited<ReturnType<typeof portalLogin>>;

/**
 * One deposit through the simulator: create it, open the payment page, press "Pay". By default on
 * the demo's method, with its custom field.
 */
async function depositAndPay(
  portal: Portal,
  simUrl: string,
  amount: string,
  methodName: string = DEMO.methodName,
) {
  const methods = (await portal.call("GET", "/api/portal/deposit-methods")).json as {
    items: Array<{
      id: string;
      name: string;
      fields: Array<{ key: string; label: string; required: boolean }>;
    }>;
  };
  const method = methods.items.find((m) => m.name === methodName)!;
  const demoMethod = methodName === DEMO.methodName;
  if (demoMethod) {
    expect(method.fields).toMatchObject([
      { key: "custom_1", label: "IBAN or account number", required: true },
    ]);
  }

  const created = await portal.call("POST", "/api/portal/deposits", {
    methodId: method.id,
    currency: "USD",
    amount,
    fields: demoMethod ? { custom_1: "DE89 3704 0044 0532 0130 00" } : {},
  });
  expect(created.status).toBe(201);
  const { orderNo, paymentUrl, error } = created.json as {
    orderNo: string;
    paymentUrl: string;
    error: unknown;
  };
  expect(error).toBeNull();
  expect(paymentUrl.startsWith(`${simUrl}/pay/page/${orderNo}?key=`)).toBe(true);

  const page = await (await fetch(paymentUrl)).text();
  expect(page).toContain(`Pay ${amount} USD`);
  if (demoMethod) expect(page).toContain("DE89 3704 0044 0532 0130 00");
  const form =
    /<form method="post" action="([^"]+)">\s*<input type="hidden" name="key" value="([^"]+)">\s*<input type="hidden" name="action" value="success">/.exec(
      page,
    );
  expect(form).not.toBeNull();
  const result = await fetch(new URL(form![1]!, paymentUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key: form![2]!, action: "success" }),
  });
  expect(result.status).toBe(200); // after the 303 to the result page
  expect(await result.text()).toContain("accepted (HTTP 204)");
  return orderNo;
}

async function waitForBalance(portal: Portal, expected: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let balance = await portal.usd();
  while (balance !== expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    balance = await portal.usd();
  }
  expect(balance).toBe(expected);
}

/** A staff session of the demo's owner over plain HTTP (cookie and CSRF token). */
async function ownerLogin(base: string) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: DEMO.ownerEmail, password: DEMO.ownerPassword }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return async (path: string, json: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json", "x-csrf-token": csrfToken },
      body: JSON.stringify(json),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
}

describe.skipIf(testDbKind() === "postgres")(
  "psphub demo (SQLite by design: skipped on the postgres project)",
  () => {
    it("refuses a busy port before touching anything: names the port and its flag, exits 1", async () => {
      const held = createServer().listen(0, "127.0.0.1");
      await once(held, "listening");
      const busy = (held.address() as AddressInfo).port;
      const untouched = join(dataDir, "never-created");
      try {
        const server = await failedStart([
          "--port",
          String(busy),
          "--sim-port",
          "0",
          "--data-dir",
          untouched,
        ]);
        expect(server.code).toBe(1);
        expect(server.out).toContain(`psphub demo: port ${busy} is in use: pass --port <another port>`);
        const sim = await failedStart(["--port", "0", "--sim-port", String(busy), "--data-dir", untouched]);
        expect(sim.code).toBe(1);
        expect(sim.out).toContain(`psphub demo: port ${busy} is in use: pass --sim-port <another port>`);
        const same = await failedStart(["--port", "4999", "--sim-port", "4999", "--data-dir", untouched]);
        expect(same.code).toBe(1);
        expect(same.out).toContain("cannot share port 4999");
        expect(existsSync(untouched)).toBe(false);
      } finally {
        await new Promise((r) => held.close(r));
      }
    }, 120_000);

    let clientId = "";
    let firstOrder = "";
    let firstSim = "";

    it("seeds on the first run, and one deposit paid on the simulator credits the wallet", async () => {
      const demo = await startDemo();
      firstSim = demo.sim;
      try {
        expect(demo.out()).toContain("a DEMO configuration, never for production");
        expect(demo.out()).toContain('Seeded the demo tenant "demo" (first run).');
        expect(demo.out()).toContain(`log in as ${DEMO.ownerEmail} / ${DEMO.ownerPassword}`);
        expect(demo.out()).toContain(
          `tenant (company code) demo, log in as ${DEMO.clientEmail} / ${DEMO.clientPassword}`,
        );

        const owner = await fetch(`${demo.base}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: DEMO.ownerEmail, password: DEMO.ownerPassword }),
        });
        expect(owner.status).toBe(200);
        expect(demo.out()).toContain(`log in as ${DEMO.operatorEmail} / ${DEMO.operatorPassword}`);
        const operator = await fetch(`${demo.base}/api/platform/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: DEMO.operatorEmail, password: DEMO.operatorPassword }),
        });
        expect(operator.status).toBe(200);

        const portal = await portalLogin(demo.base);
        clientId = portal.clientId;
        expect(await portal.usd()).toBe("0.00");
        firstOrder = await depositAndPay(portal, demo.sim, "100.00");
        // 100.00 less the fee: 2.5 % (2.50) + 0.30.
        await waitForBalance(portal, "97.20");
        const order = (await portal.call("GET", `/api/portal/deposits/${firstOrder}`)).json;
        expect(order).toMatchObject({ status: "succeeded", amount: "100.00", fee: "2.80", credit: "97.20" });
        // The demo's webhook endpoint is the simulator's receiver: it verified and logged the credit.
        const deadline = Date.now() + 15_000;
        while (!demo.out().includes("webhook wallet.credited") && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 100));
        expect(demo.out()).toMatch(
          new RegExp(`webhook wallet\\.credited msg_\\S+ .*"orderNo":"${firstOrder}"`),
        );
        expect(demo.out()).not.toContain("webhook refused");
      } finally {
        await stopDemo(demo);
      }
    }, 120_000);

    it("keeps the data on a second run and points the integration at the new simulator port", async () => {
      const demo = await startDemo(await freePortExcept(Number(new URL(firstSim).port)));
      try {
        expect(demo.out()).toContain('Kept the data of an earlier run (tenant "demo").');
        expect(demo.out()).toContain(`Moved the integration's APP_URL from ${firstSim} to ${demo.sim}.`);
        const portal = await portalLogin(demo.base);
        expect(portal.clientId).toBe(clientId);
        expect(await portal.usd()).toBe("97.20");
        const list = (await portal.call("GET", "/api/portal/deposits")).json as {
          items: Array<{ orderNo: string; status: string }>;
        };
        expect(list.items).toEqual([expect.objectContaining({ orderNo: firstOrder, status: "succeeded" })]);

        await depositAndPay(portal, demo.sim, "10.00");
        // 10.00 less 0.25 + 0.30.
        await waitForBalance(portal, "106.65");
      } finally {
        await stopDemo(demo);
      }
      const db = new SQLite(join(dataDir, "psphub.sqlite"), { readonly: true });
      try {
        const count = (table: string) =>
          (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        expect(count("tenants")).toBe(1);
        expect(count("clients")).toBe(1);
        expect(count("psp_integrations")).toBe(1);
        // The card method and the EUR → USD wallet one (docs/exchange-rates.md).
        expect(count("deposit_methods")).toBe(2);
        expect(count("fx_sources")).toBe(1);
        // One webhook endpoint, moved with the simulator's port.
        const hooks = db.prepare("SELECT url FROM webhook_endpoints").all() as { url: string }[];
        expect(hooks.map((h) => h.url)).toEqual([`${demo.sim}/webhooks`]);
      } finally {
        db.close();
      }
    }, 120_000);

    it("serves a second integration created in the back office: its deposits open the simulator's page and credit", async () => {
      const demo = await startDemo();
      try {
        const admin = await ownerLogin(demo.base);
        const integration = await admin("/api/admin/integrations", { name: "My own PSP", appUrl: demo.sim });
        expect(integration.status).toBe(201);
        const method = await admin("/api/admin/deposit-methods", {
          name: "Bank transfer (second integration)",
          integrationId: integration.json.id,
          currencies: [{ code: "USD", min: "1.00", max: "1000.00", feePercent: "0", feeFixed: "0" }],
        });
        expect(method.status).toBe(201);

        const portal = await portalLogin(demo.base);
        expect(await portal.usd()).toBe("106.65"); // the earlier runs' deposits
        const orderNo = await depositAndPay(portal, demo.sim, "25.00", "Bank transfer (second integration)");
        await waitForBalance(portal, "131.65"); // no fee on this method
        const order = (await portal.call("GET", `/api/portal/deposits/${orderNo}`)).json;
        expect(order).toMatchObject({ status: "succeeded", amount: "25.00", credit: "25.00" });
        expect(demo.out()).not.toContain("invalid crm-pay-token");
        expect(demo.out()).not.toContain("token_invalid");
      } finally {
        await stopDemo(demo);
      }
    }, 120_000);
  },
);
