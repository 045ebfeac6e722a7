import { sign } from "@psphub/protocol";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  loginClient,
  loginStaff,
  seedTenant,
  TEST_PASSWORD,
  type TestApp,
} from "../test/test-app.js";
import { testDbKind } from "../test/test-database.js";

/**
 * Passwords, API keys, integration tokens and session secrets never reach a log line, a
 * response body (except the one answer that hands the secret out), an audit record or a stored
 * row in plain text.
 */
let t: TestApp;
beforeAll(async () => {
  // Loopback APP_URLs are allowed so an integration can be created without DNS.
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true } });
});
afterAll(async () => t?.close());

const has = (method: string, url: string) =>
  t.app.routeTable.some((r) => r.method === method && r.url === url);

type Seen = { what: string; body: string; mayContain: string[] };

describe("secrets in logs, responses and storage", () => {
  it("never shows a password, API key, token or session secret except where it is handed out", async () => {
    const seen: Seen[] = [];
    const secrets = new Map<string, string>(); // secret → what it is
    /** Secrets that are fine in bodies but must not be logged (CSRF tokens are sent to the SPA). */
    const logOnly = new Map<string, string>();
    const record = (what: string, res: LightMyRequestResponse, mayContain: string[] = []) => {
      seen.push({ what, body: res.body, mayContain });
      for (const c of res.cookies) secrets.set(c.value, `${c.name} cookie`);
      return res;
    };
    const inject = async (what: string, opts: InjectOptions, mayContain: string[] = []) =>
      record(what, await t.app.inject(opts), mayContain);

    const s = await seedTenant(t);
    secrets.set(TEST_PASSWORD, "staff password");
    for (const role of ["owner", "admin", "finance", "viewer"] as const) {
      logOnly.set(s[role].csrfToken, `${role} CSRF token`);
      secrets.set(s[role].cookie.split("=")[1]!, `${role} session`);
    }

    // Logins, good and bad.
    const wrong = "wrong password guess 42";
    secrets.set(wrong, "a mistyped password");
    await inject("bad login", {
      method: "POST",
      url: "/api/auth/login",
      payload: { email: `owner@${s.slug}.test`, password: wrong },
    });
    await inject("login", {
      method: "POST",
      url: "/api/auth/login",
      payload: { email: `admin@${s.slug}.test`, password: TEST_PASSWORD },
    });

    // A new user and a client with portal passwords.
    const userPassword = "brand new user pass 7";
    secrets.set(userPassword, "new user's password");
    record(
      "create user",
      await s.owner.post("/api/admin/users", {
        email: `new@${s.slug}.test`,
        name: "New",
        password: userPassword,
        role: "admin",
      }),
    );
    await loginStaff(t.app, `new@${s.slug}.test`, userPassword);
    const clientPassword = "client portal pass 9";
    secrets.set(clientPassword, "client password");
    const client = record(
      "create client",
      await s.owner.post("/api/admin/clients", {
        name: "C",
        email: "c@secrets.test",
        password: clientPassword,
      }),
    ).json();
    // A reset password is in its reset's answer only.
    const reset = await s.owner.post(`/api/admin/clients/${client.id}/reset-password`);
    const clientPassword2: string = reset.json().password;
    secrets.set(clientPassword2, "reset client password");
    record("reset client password", reset, [clientPassword2]);
    const portal = await loginClient(t.app, s.slug, "c@secrets.test", clientPassword2);
    secrets.set(portal.cookie.split("=")[1]!, "portal session");
    logOnly.set(portal.csrfToken, "portal CSRF token");
    record("portal wallets", await portal.get("/api/portal/wallets"));

    // API keys: each is in its create answer only; using one must not log it.
    for (const role of ["owner", "viewer"] as const) {
      const res = await s.owner.post("/api/admin/api-keys", { name: `${role} key`, role });
      const key: string = res.json().key;
      secrets.set(key, `${role} API key`);
      secrets.set(key.slice(4), `${role} API key without its psk_ prefix`);
      record(`create ${role} API key`, res, [key, key.slice(4)]);
      await inject(`use ${role} API key`, {
        method: "GET",
        url: "/api/admin/clients",
        headers: { authorization: `Bearer ${key}` },
      });
      await inject(`use ${role} API key to write`, {
        method: "POST",
        url: "/api/admin/clients",
        headers: { authorization: `Bearer ${key}` },
        payload: { name: "K", email: `k-${role}@secrets.test` },
      });
    }
    record("list API keys", await s.owner.get("/api/admin/api-keys"));
    record("audit", await s.owner.get("/api/admin/audit?limit=200"));

    // Integration tokens: revealed, rotated, revealed again, used on API-2.
    let integrationsChecked = false;
    if (has("POST", "/api/admin/integrations") && has("POST", "/api/admin/integrations/:id/reveal")) {
      const integ = record(
        "create integration",
        await s.owner.post("/api/admin/integrations", { name: "PSP", appUrl: "http://127.0.0.1:9" }),
      ).json();
      const reveal = async () => {
        const res = await s.owner.post(`/api/admin/integrations/${integ.id}/reveal`);
        expect(res.statusCode).toBe(200);
        const token: string = res.json().token;
        secrets.set(token, "integration token");
        record("reveal", res, [token]);
        return token;
      };
      const first = await reveal();
      if (has("POST", "/api/admin/integrations/:id/rotate-token")) {
        // The rotation's answer shows the new token once (docs/psp-open-api.md#token).
        const rotated = await s.owner.post(`/api/admin/integrations/${integ.id}/rotate-token`, {});
        const next: string = rotated.json().token;
        record("rotate", rotated, [next]);
        expect(await reveal()).toBe(next);
        expect(next).not.toBe(first);
      }
      record("get integration", await s.owner.get(`/api/admin/integrations/${integ.id}`));
      record("list integrations", await s.owner.get("/api/admin/integrations"));
      if (has("POST", "/api/psp/pay/callback")) {
        const body = {
          merchant_id: integ.merchantId,
          order_no: "nosuchorder1",
          amount: 10,
          currency: "USD",
          time: Date.now(),
          status: 1,
        };
        await inject("API-2 callback", {
          method: "POST",
          url: "/api/psp/pay/callback",
          headers: { "content-type": "application/json", "crm-pay-token": first },
          payload: JSON.stringify({ ...body, sign: sign(body, first) }),
        });
        if (has("GET", "/api/admin/integrations/:id/callbacks")) {
          record("callback logs", await s.owner.get(`/api/admin/integrations/${integ.id}/callbacks`));
        }
      }
      record("audit after settings", await s.owner.get("/api/admin/audit?limit=200"));
      integrationsChecked = true;
    }

    // Log lines.
    expect(t.logs.length).toBeGreaterThan(10);
    expect(t.logs.join("")).toContain("/api/admin/api-keys");
    const leaks: string[] = [];
    for (const [secret, what] of [...secrets, ...logOnly]) {
      const line = t.logs.find((l) => l.includes(secret));
      if (line) leaks.push(`log line shows the ${what}: ${line.slice(0, 300)}`);
    }
    // Response bodies.
    for (const r of seen) {
      for (const [secret, what] of secrets) {
        if (r.body.includes(secret) && !r.mayContain.includes(secret)) {
          leaks.push(`the ${r.what} answer shows the ${what}`);
        }
      }
    }
    // Stored rows: audit records, callback logs, every table.
    const tables =
      testDbKind() === "sqlite"
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(t.ctx.db)
        : await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema()`.execute(t.ctx.db);
    for (const { name } of tables.rows) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(t.ctx.db);
      const text = JSON.stringify(rows.rows);
      for (const [secret, what] of secrets) {
        if (text.includes(secret)) leaks.push(`table ${name} stores the ${what} in plain text`);
      }
    }
    expect(leaks).toEqual([]);
    expect(seen.filter((r) => r.mayContain.length > 0).length).toBeGreaterThanOrEqual(
      integrationsChecked ? 4 : 2,
    );
  });
});
