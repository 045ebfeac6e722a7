import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../common/clock.js";
import { createTestApp, seedTenant, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";

// The audit log covers every settings change, reveal and rotation, with who, when, before and
// after, secrets redacted. This walks the route table: every unsafe back-office route
// is either a settings route driven here (one successful call must write exactly one audit
// record naming the caller, the target and the change, with no secret in it) or listed in
// ELSEWHERE with the reason. A new unsafe route that is in neither fails the test.

type Step = {
  /** Builds the request from what earlier steps created. */
  url: (s: State) => string;
  body?: (s: State) => unknown;
  action: string;
  targetId: (s: State, res: LightMyRequestResponse) => string;
  /** What the record must say; `before`/`after` are the parsed JSON (null when absent). */
  expect: (rec: { before: Record<string, unknown> | null; after: Record<string, unknown> | null }) => void;
  /** Remembers what later steps need. */
  keep?: (s: State, res: LightMyRequestResponse) => void;
};

type State = Record<string, string>;

const APP_URL = "http://127.0.0.1:9";
const CLIENT_PASSWORD = "client portal pass 1";
const USER_PASSWORD = "a brand new user pass";

/** Route key (`METHOD url`) → the steps that drive it, in order. */
const SETTINGS: Record<string, Step[]> = {
  "POST /api/admin/clients": [
    {
      url: () => "/api/admin/clients",
      body: () => ({ name: "Ann", email: "ann@audit.test", password: CLIENT_PASSWORD, group: "vip" }),
      action: "client.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.clientId = res.json().id;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ name: "Ann", email: "ann@audit.test" });
      },
    },
  ],
  "PATCH /api/admin/clients/:id": [
    {
      url: (s) => `/api/admin/clients/${s.clientId}`,
      body: () => ({ name: "Ann B", nationality: "ES" }),
      action: "client.update",
      targetId: (s) => s.clientId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ name: "Ann", nationality: null });
        expect(after).toMatchObject({ name: "Ann B", nationality: "es" });
      },
    },
  ],
  "POST /api/admin/clients/:id/reset-password": [
    {
      url: (s) => `/api/admin/clients/${s.clientId}/reset-password`,
      action: "client.password_reset",
      targetId: (s) => s.clientId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ portalAccess: true });
        expect(before).not.toHaveProperty("password");
        expect(after).toMatchObject({ portalAccess: true, password: "[redacted]" });
      },
    },
  ],
  "POST /api/admin/clients/:id/disable": [
    {
      url: (s) => `/api/admin/clients/${s.clientId}/disable`,
      action: "client.disable",
      targetId: (s) => s.clientId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ name: "Ann B", disabled: false });
        expect(after).toMatchObject({ name: "Ann B", disabled: true });
      },
    },
  ],
  "POST /api/admin/clients/:id/enable": [
    {
      url: (s) => `/api/admin/clients/${s.clientId}/enable`,
      action: "client.enable",
      targetId: (s) => s.clientId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ disabled: true });
        expect(after).toMatchObject({ disabled: false });
      },
    },
  ],
  "POST /api/admin/users": [
    {
      url: () => "/api/admin/users",
      body: () => ({ email: "new@audit.test", name: "New", password: USER_PASSWORD, role: "viewer" }),
      action: "user.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.userId = res.json().id;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ email: "new@audit.test", role: "viewer" });
      },
    },
  ],
  "PATCH /api/admin/users/:id": [
    {
      url: (s) => `/api/admin/users/${s.userId}`,
      body: () => ({ role: "finance" }),
      action: "user.update",
      targetId: (s) => s.userId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ role: "viewer" });
        expect(after).toMatchObject({ role: "finance" });
      },
    },
  ],
  "POST /api/admin/api-keys": [
    {
      url: () => "/api/admin/api-keys",
      body: () => ({ name: "CI key", role: "viewer" }),
      action: "api_key.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.apiKeyId = res.json().id;
        s.apiKey = res.json().key;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ name: "CI key", role: "viewer" });
      },
    },
  ],
  "DELETE /api/admin/api-keys/:id": [
    {
      url: (s) => `/api/admin/api-keys/${s.apiKeyId}`,
      action: "api_key.revoke",
      targetId: (s) => s.apiKeyId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ revokedAt: null });
        expect(after?.revokedAt).toEqual(expect.any(Number));
      },
    },
  ],
  "POST /api/admin/integrations": [
    {
      url: () => "/api/admin/integrations",
      body: () => ({ name: "PSP", appUrl: APP_URL }),
      action: "integration.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.integrationId = res.json().id;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ name: "PSP", appUrl: APP_URL, amountPolicy: "exact" });
      },
    },
  ],
  "PATCH /api/admin/integrations/:id": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}`,
      body: () => ({
        name: "PSP 2",
        amountPolicy: "review",
        api1TimeoutMs: 5_000,
        paramConfig: { amount: { key: "amt" } },
        customParams: [{ label: "Bank", type: "text", required: true }],
      }),
      action: "integration.update",
      targetId: (s) => s.integrationId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ name: "PSP", amountPolicy: "exact" });
        expect(after).toMatchObject({ name: "PSP 2", amountPolicy: "review", api1TimeoutMs: 5_000 });
        expect(JSON.stringify(after)).toContain("amt");
        expect(JSON.stringify(after)).toContain("custom_1");
      },
    },
  ],
  "POST /api/admin/integrations/:id/disable": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}/disable`,
      action: "integration.disable",
      targetId: (s) => s.integrationId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ enabled: true });
        expect(after).toEqual({ enabled: false });
      },
    },
  ],
  "POST /api/admin/integrations/:id/enable": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}/enable`,
      action: "integration.enable",
      targetId: (s) => s.integrationId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ enabled: false });
        expect(after).toEqual({ enabled: true });
      },
    },
  ],
  "POST /api/admin/integrations/:id/reveal": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}/reveal`,
      action: "integration.reveal",
      targetId: (s) => s.integrationId!,
      keep: (s, res) => {
        s.token = res.json().token;
      },
      expect: ({ after }) => {
        expect(after).toEqual({ merchantId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      },
    },
  ],
  "POST /api/admin/integrations/:id/rotate-token": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}/rotate-token`,
      body: () => ({ graceHours: 1 }),
      action: "integration.rotate_token",
      targetId: (s) => s.integrationId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ rotatedAt: null });
        expect(after).toMatchObject({ rotatedAt: expect.any(Number), graceMs: 3_600_000 });
      },
    },
  ],
  "PUT /api/admin/integrations/:id/breaker/mode": [
    {
      url: (s) => `/api/admin/integrations/${s.integrationId}/breaker/mode`,
      body: () => ({ mode: "dry_run" }),
      action: "integration.breaker_mode",
      targetId: (s) => s.integrationId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ mode: "on" });
        expect(after).toEqual({ mode: "dry_run" });
      },
    },
  ],
  "POST /api/admin/deposit-methods": [
    {
      url: () => "/api/admin/deposit-methods",
      body: (s) => ({
        name: "Card",
        integrationId: s.integrationId,
        currencies: [{ code: "USD", min: "1.00", max: "100.00", feePercent: "2.5" }],
      }),
      action: "deposit_method.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.methodId = res.json().id;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ name: "Card" });
      },
    },
    {
      url: () => "/api/admin/deposit-methods",
      body: (s) => ({
        name: "Wire",
        integrationId: s.integrationId,
        currencies: [{ code: "EUR", min: "10.00", max: "1000.00" }],
      }),
      action: "deposit_method.create",
      targetId: (_s, res) => res.json().id,
      keep: (s, res) => {
        s.method2Id = res.json().id;
      },
      expect: ({ after }) => expect(after).toMatchObject({ name: "Wire" }),
    },
  ],
  "PATCH /api/admin/deposit-methods/:id": [
    {
      url: (s) => `/api/admin/deposit-methods/${s.methodId}`,
      body: () => ({ name: "Card 2", orderTtlSeconds: 600, fieldLabels: { custom_1: "IBAN" } }),
      action: "deposit_method.update",
      targetId: (s) => s.methodId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ name: "Card" });
        expect(after).toMatchObject({ name: "Card 2" });
        expect(JSON.stringify(after)).toContain("IBAN");
      },
    },
  ],
  "POST /api/admin/deposit-methods/:id/disable": [
    {
      url: (s) => `/api/admin/deposit-methods/${s.methodId}/disable`,
      action: "deposit_method.disable",
      targetId: (s) => s.methodId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ enabled: true });
        expect(after).toEqual({ enabled: false });
      },
    },
  ],
  "POST /api/admin/deposit-methods/:id/enable": [
    {
      url: (s) => `/api/admin/deposit-methods/${s.methodId}/enable`,
      action: "deposit_method.enable",
      targetId: (s) => s.methodId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ enabled: false });
        expect(after).toEqual({ enabled: true });
      },
    },
  ],
  "POST /api/admin/deposit-methods/reorder": [
    {
      url: () => "/api/admin/deposit-methods/reorder",
      body: (s) => ({ ids: [s.method2Id, s.methodId] }),
      action: "deposit_method.reorder",
      targetId: () => "",
      expect: ({ before, after }) => {
        expect(before?.order).toHaveLength(2);
        expect(after?.order).toEqual([...((before?.order ?? []) as string[])].reverse());
      },
    },
  ],
  "DELETE /api/admin/deposit-methods/:id": [
    {
      url: (s) => `/api/admin/deposit-methods/${s.method2Id}`,
      action: "deposit_method.delete",
      targetId: (s) => s.method2Id!,
      expect: ({ before }) => expect(before).toMatchObject({ name: "Wire" }),
    },
  ],
  "POST /api/admin/fx/sources": [
    {
      url: () => "/api/admin/fx/sources",
      body: () => ({ kind: "external", name: "Rates API", url: APP_URL }),
      action: "fx_source.create",
      targetId: (_s, res) => res.json().source.id,
      keep: (s, res) => {
        s.fxExternalId = res.json().source.id;
        s.fxKey = res.json().key;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toMatchObject({ kind: "external", name: "Rates API", ttlSeconds: 300 });
      },
    },
    {
      url: () => "/api/admin/fx/sources",
      body: () => ({ kind: "manual", name: "Rates desk" }),
      action: "fx_source.create",
      targetId: (_s, res) => res.json().source.id,
      keep: (s, res) => {
        s.fxManualId = res.json().source.id;
      },
      expect: ({ after }) => expect(after).toMatchObject({ kind: "manual", ttlSeconds: null }),
    },
  ],
  "PUT /api/admin/fx/sources/:id": [
    {
      url: (s) => `/api/admin/fx/sources/${s.fxExternalId}`,
      body: () => ({ name: "Rates API 2", ttlSeconds: 60 }),
      action: "fx_source.update",
      targetId: (s) => s.fxExternalId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ name: "Rates API", ttlSeconds: 300 });
        expect(after).toMatchObject({ name: "Rates API 2", ttlSeconds: 60 });
      },
    },
  ],
  "POST /api/admin/fx/sources/:id/key": [
    {
      url: (s) => `/api/admin/fx/sources/${s.fxExternalId}/key`,
      action: "fx_source.regenerate_key",
      targetId: (s) => s.fxExternalId!,
      keep: (s, res) => {
        s.fxKey2 = res.json().key;
      },
      expect: ({ before, after }) => {
        expect(before).toEqual({ keyLast4: expect.any(String) });
        expect(after).toEqual({ keyLast4: expect.any(String) });
      },
    },
  ],
  "PUT /api/admin/fx/sources/:id/rates/:from/:to": [
    {
      url: (s) => `/api/admin/fx/sources/${s.fxManualId}/rates/EUR/USD`,
      body: () => ({ rate: "1.0781", markupBps: 100 }),
      action: "fx_rate.set",
      targetId: (s) => s.fxManualId!,
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toEqual({ pair: "EUR/USD", rate: "1.0781", markupBps: 100 });
      },
    },
  ],
  "DELETE /api/admin/fx/sources/:id/rates/:from/:to": [
    {
      url: (s) => `/api/admin/fx/sources/${s.fxManualId}/rates/EUR/USD`,
      action: "fx_rate.delete",
      targetId: (s) => s.fxManualId!,
      expect: ({ before, after }) => {
        expect(before).toEqual({ pair: "EUR/USD", rate: "1.0781", markupBps: 100 });
        expect(after).toBeNull();
      },
    },
  ],
  "DELETE /api/admin/fx/sources/:id": [
    {
      url: (s) => `/api/admin/fx/sources/${s.fxManualId}`,
      action: "fx_source.delete",
      targetId: (s) => s.fxManualId!,
      expect: ({ before }) => expect(before).toMatchObject({ name: "Rates desk" }),
    },
  ],
  "POST /api/admin/webhooks/endpoints": [
    {
      url: () => "/api/admin/webhooks/endpoints",
      body: () => ({ url: `${APP_URL}/hooks` }),
      action: "webhook_endpoint.create",
      targetId: (_s, res) => res.json().endpoint.id,
      keep: (s, res) => {
        s.hookId = res.json().endpoint.id;
      },
      expect: ({ before, after }) => {
        expect(before).toBeNull();
        expect(after).toEqual({ url: `${APP_URL}/hooks`, description: "", eventTypes: ["*"], enabled: true });
      },
    },
  ],
  "PUT /api/admin/webhooks/endpoints/:id": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}`,
      body: () => ({ description: "Risk engine", eventTypes: ["wallet.credited", "webhook.test"] }),
      action: "webhook_endpoint.update",
      targetId: (s) => s.hookId!,
      expect: ({ before, after }) => {
        expect(before).toMatchObject({ description: "", eventTypes: ["*"] });
        expect(after).toMatchObject({
          description: "Risk engine",
          eventTypes: ["wallet.credited", "webhook.test"],
        });
      },
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/rotate": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/rotate`,
      body: () => ({ overlapHours: 2 }),
      action: "webhook_endpoint.rotate",
      targetId: (s) => s.hookId!,
      expect: ({ after }) => expect(after).toEqual({ overlapHours: 2 }),
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/test": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/test`,
      body: () => ({}),
      action: "webhook_endpoint.test",
      targetId: (s) => s.hookId!,
      keep: (s, res) => {
        s.hookEventId = res.json().eventId;
      },
      expect: ({ after }) => expect(after).toEqual({ eventId: expect.stringMatching(/^msg_/) }),
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/deliveries/:eventId/replay": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/deliveries/${s.hookEventId}/replay`,
      body: () => ({}),
      action: "webhook_delivery.replay",
      targetId: (s) => s.hookId!,
      expect: ({ after }) => expect(after).toEqual({ eventId: expect.stringMatching(/^msg_/) }),
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/replays": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/replays`,
      body: () => ({ from: 0, to: Date.UTC(2030, 0, 1), onlyFailed: true }),
      action: "webhook_endpoint.replay",
      targetId: (s) => s.hookId!,
      // The only event is a test event, which a range replay leaves out.
      expect: ({ after }) => expect(after).toMatchObject({ from: 0, onlyFailed: true, events: 0 }),
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/disable": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/disable`,
      body: () => ({}),
      action: "webhook_endpoint.disable",
      targetId: (s) => s.hookId!,
      expect: ({ after }) => expect(after).toEqual({ enabled: false }),
    },
  ],
  "POST /api/admin/webhooks/endpoints/:id/enable": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}/enable`,
      body: () => ({ recover: false }),
      action: "webhook_endpoint.enable",
      targetId: (s) => s.hookId!,
      expect: ({ after }) => expect(after).toEqual({ enabled: true, recover: false }),
    },
  ],
  "DELETE /api/admin/webhooks/endpoints/:id": [
    {
      url: (s) => `/api/admin/webhooks/endpoints/${s.hookId}`,
      action: "webhook_endpoint.delete",
      targetId: (s) => s.hookId!,
      expect: ({ before }) => expect(before).toMatchObject({ description: "Risk engine" }),
    },
  ],
};

/** Unsafe back-office routes that change no settings, with where their records are proven. */
const ELSEWHERE: Record<string, string> = {
  "POST /api/auth/login": "a login, not a change (failed logins are rate-limited, not audited)",
  "POST /api/auth/logout": "ends the caller's own session",
  "POST /api/admin/integrations/api1-preview": "read-only: shows what a configuration would send",
  "POST /api/admin/fx/sources/:id/test": "read-only: asks the rate source for a rate now",
  "POST /api/admin/deposits": "a deposit, recorded on its own timeline (deposits module)",
  "POST /api/admin/deposit-quote": "read-only: a quote is computed and signed, nothing is stored",
  "POST /api/admin/deposits/:id/cancel": "audited as deposit.cancel (deposit-routes.db.test.ts)",
  "POST /api/admin/deposits/:id/approve": "audited as deposit.approve (manual-resolution.db.test.ts)",
  "POST /api/admin/deposits/:id/reject": "audited as deposit.reject (manual-resolution.db.test.ts)",
  "POST /api/admin/review/:id/resolve": "audited as review.resolve (review.db.test.ts)",
  "POST /api/admin/review/:id/keep-waiting": "audited as review.keep_waiting (assistance.db.test.ts)",
  "POST /api/admin/review/:id/mark-failed": "audited as review.mark_failed (assistance.db.test.ts)",
  "POST /api/admin/review/:id/credit": "audited as review.credit / credit_requested (assistance.db.test.ts)",
  "POST /api/admin/review/:id/approve": "audited as review.credit_approved (assistance.db.test.ts)",
  "POST /api/admin/review/:id/decline": "audited as review.credit_declined (assistance.db.test.ts)",
  "PUT /api/admin/settings/four-eyes": "audited as settings.four_eyes (assistance.db.test.ts)",
  "POST /api/admin/review/:id/check-status": "audited as review.check_status (check-status.db.test.ts)",
  "POST /api/admin/integrations/:id/breaker/close":
    "needs an open breaker; audited as integration.breaker_close (api1-breaker.db.test.ts)",
  "POST /api/admin/integrations/:id/certify-runs":
    "a conformance run, recorded with its report; audited as integration.certify (certify-runs.db.test.ts)",
  "POST /api/admin/withdrawal-methods": "audited as withdrawal_method.create (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawal-methods/reorder":
    "audited as withdrawal_method.reorder (withdrawal-routes.db.test.ts)",
  "PUT /api/admin/withdrawal-methods/:id":
    "audited as withdrawal_method.update (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawals":
    "a withdrawal, recorded on its own timeline with the staff member who requested it",
  "POST /api/admin/withdrawals/:id/approve": "audited as withdrawal.approve (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawals/:id/reject": "audited as withdrawal.reject (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawals/:id/mark-paid":
    "audited as withdrawal.mark_paid (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawals/:id/start-payout":
    "audited as withdrawal.start_payout (withdrawal-routes.db.test.ts)",
  "POST /api/admin/withdrawals/:id/check-payout": "audited as withdrawal.check_payout (payouts.db.test.ts)",
  "POST /api/admin/withdrawals/:id/mark-failed": "audited as withdrawal.mark_failed (payouts.db.test.ts)",
  "POST /api/admin/alerts/:id/acknowledge":
    "needs an open alert; audited as alert.acknowledge (integration-health.db.test.ts)",
};

const clock = fixedClock(Date.UTC(2025, 5, 1));
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
});
afterAll(async () => t?.close());

const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
const SECRETS = () => [TEST_PASSWORD, CLIENT_PASSWORD, USER_PASSWORD];

describe("audit coverage", () => {
  it("maps every unsafe back-office route to a settings step or to ELSEWHERE", () => {
    const unsafe = t.app.routeTable
      .filter((r) => ["POST", "PUT", "PATCH", "DELETE"].includes(r.method))
      .filter((r) => r.url.startsWith("/api/admin/") || r.url.startsWith("/api/auth/"))
      .map(key);
    expect(unsafe.filter((k) => !SETTINGS[k] && !ELSEWHERE[k])).toEqual([]);
    // And nothing mapped is stale.
    expect([...Object.keys(SETTINGS), ...Object.keys(ELSEWHERE)].filter((k) => !unsafe.includes(k))).toEqual(
      [],
    );
  });

  it("records who changed what and when, before and after, for every settings change, reveal and rotation", async () => {
    const s = await seedTenant(t);
    const state: State = {};
    const secrets = SECRETS();
    const failures: string[] = [];
    let lastCount = (
      await t.ctx.db.selectFrom("audit_log").select("id").where("tenant_id", "=", s.tenantId).execute()
    ).length;
    for (const [route, steps] of Object.entries(SETTINGS)) {
      const method = route.split(" ")[0] as "POST";
      for (const step of steps) {
        clock.advance(1_000); // one step per second: the log's order is the steps' order
        const started = t.ctx.clock.now();
        const body = step.body?.(state);
        const res = await s.owner.inject({
          method,
          url: step.url(state),
          ...(body === undefined ? {} : { payload: body as object }),
        });
        if (res.statusCode >= 300) {
          failures.push(`${route}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        step.keep?.(state, res);
        if (route.endsWith("/reveal")) secrets.push(state.token!);
        if (route === "POST /api/admin/api-keys") secrets.push(state.apiKey!, state.apiKey!.slice(4));
        if (route.endsWith("/reset-password")) secrets.push(res.json().password);
        if (route.startsWith("POST /api/admin/fx/sources") && res.json().key) secrets.push(res.json().key);
        if (route.startsWith("POST /api/admin/webhooks/endpoints") && res.json().secret)
          secrets.push(res.json().secret.slice("whsec_".length));
        const rows = await t.ctx.db
          .selectFrom("audit_log")
          .selectAll()
          .where("tenant_id", "=", s.tenantId)
          .orderBy("created_at")
          .execute();
        const fresh = rows.slice(lastCount);
        lastCount = rows.length;
        if (fresh.length !== 1) {
          failures.push(`${route}: ${fresh.length} audit records (${fresh.map((r) => r.action).join(", ")})`);
          continue;
        }
        const rec = fresh[0]!;
        try {
          expect(rec.action).toBe(step.action);
          expect(rec.actor_type).toBe("user");
          expect(rec.actor_id).toBe(s.owner.me.id);
          expect(rec.target_id ?? "").toBe(step.targetId(state, res));
          expect(rec.created_at).toBeGreaterThanOrEqual(started);
          expect(rec.ip).toBeTruthy();
          step.expect({
            before: rec.before === null ? null : JSON.parse(rec.before),
            after: rec.after === null ? null : JSON.parse(rec.after),
          });
        } catch (err) {
          failures.push(`${route}: ${(err as Error).message.split("\n")[0]}`);
        }
      }
    }
    expect(failures).toEqual([]);

    // No secret in any record: passwords, the API key, the integration token (before and after
    // rotation), password hashes and sealed tokens.
    const all = JSON.stringify(
      await t.ctx.db.selectFrom("audit_log").selectAll().where("tenant_id", "=", s.tenantId).execute(),
    );
    clock.advance(1_000);
    const rotated = (await s.owner.post(`/api/admin/integrations/${state.integrationId}/reveal`)).json()
      .token;
    for (const secret of [...secrets, rotated])
      expect(all.includes(secret), "a secret in the audit log").toBe(false);
    expect(all).not.toMatch(/scrypt\$|"v1\.[A-Za-z0-9_-]+\./);
    // The client's password change is named, never shown.
    const clientUpdate = await t.ctx.db
      .selectFrom("audit_log")
      .select(["before", "after"])
      .where("action", "=", "client.password_reset")
      .where("target_id", "=", state.clientId!)
      .executeTakeFirstOrThrow();
    expect(clientUpdate.after).toMatch(/password/i);

    // Listable and filterable through the API, by an auditor.
    const byTarget = (await s.finance.get(`/api/admin/audit?targetId=${state.integrationId}`)).json();
    expect(byTarget.items.map((i: { action: string }) => i.action)).toEqual([
      "integration.reveal",
      "integration.breaker_mode",
      "integration.rotate_token",
      "integration.reveal",
      "integration.enable",
      "integration.disable",
      "integration.update",
      "integration.create",
    ]);
  });
});
