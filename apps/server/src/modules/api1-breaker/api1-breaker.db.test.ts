import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import { fixedClock } from "../../common/clock.js";
import { type Api1Stub, type StubAnswer, startApi1Stub, successAnswer } from "../../test/api1-stub.js";
import {
  insertIntegration,
  insertMethod,
  insertPaymentSetup,
  type PaymentFixture,
} from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import { BREAKER_POLICY } from "./breaker-policy.js";

/**
 * The API-1 breaker end to end: the real app on SQLite or PostgreSQL, a real loopback tenant
 * backend that fails, a fake clock for the window and the cool-down.
 */

const clock = fixedClock(Date.UTC(2026, 0, 5, 12));
let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
const stubs: Api1Stub[] = [];

const FAIL: StubAnswer = { status: 503, body: "busy" };

type Setup = PaymentFixture & { stub: Api1Stub; portal: Session; fallbackId: string };

/** A method on a failing backend, and a fallback method on a healthy one, of the same tenant. */
async function setup(): Promise<Setup> {
  const stub = await startApi1Stub();
  const healthy = await startApi1Stub();
  stubs.push(stub, healthy);
  stub.respond = () => FAIL;
  const fx = await insertPaymentSetup(t.ctx, tenant.tenantId, { appUrl: stub.url });
  stub.token = fx.token;
  const other = await insertIntegration(t.ctx, tenant.tenantId, { appUrl: healthy.url });
  healthy.token = other.token;
  const fallbackId = await insertMethod(t.ctx, tenant.tenantId, other.integrationId);
  const set = await tenant.admin.patch(`/api/admin/deposit-methods/${fx.methodId}`, {
    fallbackMethodId: fallbackId,
  });
  expect(set.statusCode, set.body).toBe(200);
  const portal = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
  return { ...fx, stub, portal, fallbackId };
}

const deposit = (s: Setup, methodId = s.methodId) =>
  s.portal.inject({
    method: "POST",
    url: "/api/portal/deposits",
    payload: { methodId, currency: "USD", amount: "10" },
  });

async function methods(s: Setup) {
  const res = await s.portal.get("/api/portal/deposit-methods");
  expect(res.statusCode).toBe(200);
  return res.json().items as {
    id: string;
    temporarilyUnavailable: boolean;
    fallbackMethodId: string | null;
  }[];
}

const breaker = async (s: Setup, session = tenant.admin) =>
  session.get(`/api/admin/integrations/${s.integrationId}/breaker`);

async function failUntilOpen(s: Setup): Promise<void> {
  for (let i = 0; i < BREAKER_POLICY.minFailures; i++) {
    const res = await deposit(s);
    expect(res.json().status).toBe("failed");
    clock.advance(1_000);
  }
}

const deposits = async (s: Setup) =>
  (await t.ctx.db.selectFrom("deposits").select("id").where("integration_id", "=", s.integrationId).execute())
    .length;

beforeAll(async () => {
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  tenant = await seedTenant(t);
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

describe("the API-1 breaker", () => {
  it("opens after failures; the methods show unavailable with the fallback; a deposit is refused at once", async () => {
    const s = await setup();
    // Four failures are below the minimum count: still closed.
    for (let i = 0; i < BREAKER_POLICY.minFailures - 1; i++) await deposit(s);
    expect((await breaker(s)).json().state).toBe("closed");
    expect((await methods(s)).find((m) => m.id === s.methodId)?.temporarilyUnavailable).toBe(false);
    await deposit(s);
    const b = (await breaker(s)).json();
    expect(b).toMatchObject({
      state: "open",
      mode: "on",
      openedAt: clock.now(),
      window: { calls: 5, failures: 5 },
    });
    expect(b.reason).toBe("5 of 5 API-1 calls failed in 5 min");
    expect(b.events[0]).toMatchObject({ kind: "opened", dryRun: false });

    const list = await methods(s);
    expect(list.find((m) => m.id === s.methodId)).toMatchObject({
      temporarilyUnavailable: true,
      fallbackMethodId: s.fallbackId,
    });
    expect(list.find((m) => m.id === s.fallbackId)).toMatchObject({ temporarilyUnavailable: false });

    const calls = s.stub.requests.length;
    const before = await deposits(s);
    const refused = await deposit(s);
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error.code).toBe("method_temporarily_unavailable");
    expect(Number(refused.headers["retry-after"])).toBe(60);
    expect(s.stub.requests.length).toBe(calls);
    expect(await deposits(s)).toBe(before);
    // The fallback works meanwhile.
    expect((await deposit(s, s.fallbackId)).json().status).toBe("pending");
  });

  it("after the cool-down the next deposit is the probe; its success closes the breaker", async () => {
    const s = await setup();
    await failUntilOpen(s);
    clock.advance(BREAKER_POLICY.coolDownMs);
    // A probe is due: the method is offered again, so that a client's deposit can be it.
    expect((await methods(s)).find((m) => m.id === s.methodId)?.temporarilyUnavailable).toBe(false);
    s.stub.respond = successAnswer;
    const probe = await deposit(s);
    expect(probe.json().status).toBe("pending");
    const b = (await breaker(s)).json();
    expect(b.state).toBe("closed");
    expect(b.window).toEqual({ calls: 0, failures: 0 });
    expect(b.events.map((e: { kind: string }) => e.kind).slice(0, 3)).toEqual([
      "closed",
      "half_open",
      "opened",
    ]);
    expect((await deposit(s)).json().status).toBe("pending");
  });

  it("a failed probe opens it again with a new cool-down", async () => {
    const s = await setup();
    await failUntilOpen(s);
    clock.advance(BREAKER_POLICY.coolDownMs);
    expect((await deposit(s)).json().status).toBe("failed");
    const b = (await breaker(s)).json();
    expect(b).toMatchObject({ state: "open", openedAt: clock.now(), reason: "the half-open probe failed" });
    expect((await deposit(s)).statusCode).toBe(503);
  });

  it("two processes share the state, and only one of them gets the probe", async () => {
    const s = await setup();
    const second = createAppContext(t.ctx.config, { logger: t.ctx.logger, clock });
    try {
      const target = { integrationId: s.integrationId, tenantId: s.tenantId, timeoutMs: 5_000 };
      expect(await second.api1Breakers.admit(target, clock.now(), {})).toEqual({
        kind: "pass",
        probe: false,
      });
      await failUntilOpen(s);
      // The second process kept the closed row for at most a second.
      clock.advance(1_000);
      expect((await second.api1Breakers.admit(target, clock.now(), {})).kind).toBe("refuse");
      clock.advance(BREAKER_POLICY.coolDownMs);
      const [a, b] = await Promise.all([
        second.api1Breakers.admit(target, clock.now(), {}),
        t.ctx.api1Breakers.admit(target, clock.now(), {}),
      ]);
      expect([a, b].filter((x) => x.kind === "pass" && x.probe)).toHaveLength(1);
      expect([a, b].filter((x) => x.kind === "refuse")).toHaveLength(1);
      // The probe succeeds in the second process: the first sees the breaker closed.
      const winner = a.kind === "pass" ? second : t.ctx;
      await winner.api1Breakers.record(target, "success", true, clock.now());
      expect((await breaker(s)).json().state).toBe("closed");
      s.stub.respond = successAnswer;
      expect((await deposit(s)).statusCode).toBe(201);
    } finally {
      await second.close();
    }
  });

  it("dry run refuses nothing but records the transition and the deposits it would have refused", async () => {
    const s = await setup();
    const set = await tenant.admin.put(`/api/admin/integrations/${s.integrationId}/breaker/mode`, {
      mode: "dry_run",
    });
    expect(set.statusCode, set.body).toBe(200);
    await failUntilOpen(s);
    expect((await methods(s)).find((m) => m.id === s.methodId)?.temporarilyUnavailable).toBe(false);
    const calls = s.stub.requests.length;
    const res = await deposit(s);
    expect(res.json().status).toBe("failed");
    expect(s.stub.requests.length).toBe(calls + 1);
    const b = (await breaker(s)).json();
    expect(b).toMatchObject({ mode: "dry_run", state: "open" });
    expect(b.events[0]).toMatchObject({
      kind: "would_refuse",
      dryRun: true,
      detail: { methodId: s.methodId },
    });
    expect(b.events.find((e: { kind: string }) => e.kind === "opened")).toMatchObject({ dryRun: true });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "after"])
      .where("target_id", "=", s.integrationId)
      .where("action", "=", "integration.breaker_mode")
      .execute();
    expect(audit.map((a) => JSON.parse(a.after ?? "{}"))).toEqual([{ mode: "dry_run" }]);
  });

  it("mode off neither counts nor refuses", async () => {
    const s = await setup();
    await tenant.admin.put(`/api/admin/integrations/${s.integrationId}/breaker/mode`, { mode: "off" });
    await failUntilOpen(s);
    await deposit(s);
    expect((await breaker(s)).json()).toMatchObject({ state: "closed", window: { calls: 0, failures: 0 } });
  });

  it("an admin closes it by hand (audited); a viewer may not; another tenant sees nothing", async () => {
    const s = await setup();
    await failUntilOpen(s);
    expect(
      (await tenant.viewer.post(`/api/admin/integrations/${s.integrationId}/breaker/close`)).statusCode,
    ).toBe(403);
    const other = await seedTenant(t);
    expect((await breaker(s, other.admin)).statusCode).toBe(404);
    expect(
      (await other.admin.post(`/api/admin/integrations/${s.integrationId}/breaker/close`)).statusCode,
    ).toBe(404);
    expect((await breaker(s)).json().state).toBe("open");

    const closed = await tenant.admin.post(`/api/admin/integrations/${s.integrationId}/breaker/close`);
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({ state: "closed" });
    expect(closed.json().events[0]).toMatchObject({ kind: "closed_by_hand" });
    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "actor_id", "before"])
      .where("target_id", "=", s.integrationId)
      .where("action", "=", "integration.breaker_close")
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor_id).toBe(tenant.admin.me.id);
    expect(JSON.parse(audit[0]?.before ?? "{}")).toMatchObject({ state: "open" });
    // Closed in this process at once, deposits call API-1 again.
    s.stub.respond = successAnswer;
    const calls = s.stub.requests.length;
    expect((await deposit(s)).statusCode).toBe(201);
    expect(s.stub.requests.length).toBe(calls + 1);
  });

  it("a clean decline or a 4xx is not a failure of the backend", async () => {
    const s = await setup();
    s.stub.respond = () => ({ status: 200, body: JSON.stringify({ result: false, msg: "Card declined" }) });
    for (let i = 0; i < 6; i++) await deposit(s);
    s.stub.respond = () => ({ status: 401, body: "no" });
    for (let i = 0; i < 6; i++) await deposit(s);
    expect((await breaker(s)).json()).toMatchObject({ state: "closed", window: { calls: 12, failures: 0 } });
  });

  it("a fallback must be another enabled method of the same tenant", async () => {
    const s = await setup();
    const url = `/api/admin/deposit-methods/${s.methodId}`;
    const self = await tenant.admin.patch(url, { fallbackMethodId: s.methodId });
    expect(self.statusCode).toBe(400);
    const other = await seedTenant(t);
    const theirs = await insertPaymentSetup(t.ctx, other.tenantId);
    expect((await tenant.admin.patch(url, { fallbackMethodId: theirs.methodId })).statusCode).toBe(400);
    const disabled = await insertMethod(t.ctx, tenant.tenantId, s.integrationId, { enabled: false });
    expect((await tenant.admin.patch(url, { fallbackMethodId: disabled })).statusCode).toBe(400);
    const none = await tenant.admin.patch(url, { fallbackMethodId: null });
    expect(none.json().fallbackMethodId).toBeNull();
  });
});
