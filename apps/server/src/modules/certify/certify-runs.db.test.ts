import { type RunningSim, type SimMode, startSim } from "@psphub/psp-sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, type Session, seedTenant, type TestApp } from "../../test/test-app.js";
import type { CertifyReport } from "./certify-case.js";
import { startCertifyRun } from "./run-certify.js";

// "Run conformance tests" from the back office against the reference simulator, on SQLite and
// PostgreSQL: the run's API-1 requests carry the integration's real token and keys, the
// simulator's callbacks arrive at the CRM's real callback endpoint and are routed to the run
// (never applied, never in the callback log), a passing run certifies the configuration, and a
// change of it drops the badge. Tenants never see each other's runs.

let t: TestApp;
let crmUrl: string;
let a: Awaited<ReturnType<typeof seedTenant>>;
let b: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;
const sims: RunningSim[] = [];

async function simFor(modes: SimMode[] = []): Promise<string> {
  const sim = await startSim({
    port: 0,
    callbackUrl: `${crmUrl}/api/psp`,
    integrations: [{ token: fx.token, merchantId: fx.merchantId, modes }],
    callbackDeadlineMs: 3_000,
    log: () => {},
  });
  sims.push(sim);
  return sim.url;
}

const setAppUrl = (url: string) =>
  t.ctx.db.updateTable("psp_integrations").set({ app_url: url }).where("id", "=", fx.integrationId).execute();

beforeAll(async () => {
  t = await createTestApp({ configOverrides: { allowPrivateAppUrls: true, allowHttpPaymentUrls: true } });
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  crmUrl = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  a = await seedTenant(t);
  b = await seedTenant(t);
  fx = await insertPaymentSetup(t.ctx, a.tenantId, { appUrl: "http://127.0.0.1:1" });
  await setAppUrl(await simFor());
}, 60_000);

afterAll(async () => {
  for (const s of sims) await s.close();
  await t?.close();
});
paymentInvariantsAfterEach(() => t?.ctx);

const runsUrl = () => `/api/admin/integrations/${fx.integrationId}/certify-runs`;

async function finished(session: Session, runId: string) {
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const res = await session.get(`${runsUrl()}/${runId}`);
    expect(res.statusCode).toBe(200);
    const run = res.json() as { status: string; report: CertifyReport | null; certified: boolean | null };
    if (run.status !== "running") return run;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the run did not finish");
}

const badge = async (session: Session) =>
  (
    (await session.get("/api/admin/integrations/certification")).json() as {
      items: Array<{ integrationId: string; certified: boolean; stale: boolean }>;
    }
  ).items.find((i) => i.integrationId === fx.integrationId);

describe("conformance runs from the back office", () => {
  it("runs the suite, routes the test orders' callbacks to it, and certifies the configuration", {
    timeout: 90_000,
  }, async () => {
    expect(await badge(a.admin)).toMatchObject({ certified: false, stale: false });
    const start = await a.admin.post(runsUrl(), {});
    expect(start.statusCode).toBe(202);
    const started = start.json() as { id: string; status: string };
    expect(started.status).toBe("running");
    // One run at a time.
    expect((await a.admin.post(runsUrl(), {})).statusCode).toBe(409);
    const audited = await t.ctx.db
      .selectFrom("audit_log")
      .select(["action", "target_id", "after"])
      .where("tenant_id", "=", a.tenantId)
      .where("action", "=", "integration.certify")
      .execute();
    expect(audited).toHaveLength(1);
    expect(audited[0]!.target_id).toBe(fx.integrationId);
    expect(JSON.parse(String(audited[0]!.after))).toEqual({ runId: started.id, manual: false });

    const run = await finished(a.admin, started.id);
    expect(run.status).toBe("finished");
    const report = run.report!;
    expect(report.cases.filter((c) => c.verdict === "failed").map((c) => [c.id, c.detail])).toEqual([]);
    expect(report.cases.filter((c) => c.api === "API-2" && c.verdict === "passed")).toHaveLength(8);
    expect(run.certified).toBe(true);
    expect(await badge(a.admin)).toMatchObject({ certified: true, stale: false });

    // The test orders' callbacks were answered by the run: never deposits, never in the log.
    const orderNos = report.cases
      .filter((c) => c.api === "API-2")
      .flatMap((c) => c.exchanges)
      .filter((e) => e.direction === "from_backend")
      .map((e) => (JSON.parse(e.request.body) as { order_no: string }).order_no);
    expect(new Set(orderNos).size).toBe(4);
    const logged = await t.ctx.db
      .selectFrom("callback_logs")
      .select("id")
      .where("order_no", "in", orderNos)
      .execute();
    expect(logged).toEqual([]);
    const deposits = await t.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "in", orderNos)
      .execute();
    expect(deposits).toEqual([]);

    // The HTML report, and the token nowhere.
    const html = await a.viewer.get(`${runsUrl()}/${started.id}/report.html`);
    expect(html.statusCode).toBe(200);
    expect(html.headers["content-type"]).toMatch(/^text\/html/);
    expect(html.headers["content-security-policy"]).toMatch(/default-src 'none'/);
    expect(html.body).toContain("Certified: every mandatory case passed");
    expect(html.body).toContain("api2.retry_after_500");
    expect(html.body).not.toContain(fx.token);
    expect(JSON.stringify(report)).not.toContain(fx.token);

    // The history.
    const list = (await a.viewer.get(runsUrl())).json() as {
      items: Array<{ id: string; certified: boolean }>;
    };
    expect(list.items[0]).toMatchObject({ id: started.id, certified: true });

    // A change of the parameters drops the badge until the next passing run.
    const patch = await a.admin.patch(`/api/admin/integrations/${fx.integrationId}`, {
      paramConfig: { language: { key: "lang" } },
    });
    expect(patch.statusCode).toBe(200);
    expect(await badge(a.admin)).toMatchObject({ certified: false, stale: true });
    expect(
      ((await a.viewer.get(runsUrl())).json() as { items: Array<{ currentConfig: boolean }> }).items[0]!
        .currentConfig,
    ).toBe(false);
    const again = await a.admin.patch(`/api/admin/integrations/${fx.integrationId}`, {
      paramConfig: { language: { key: "language" } },
    });
    expect(again.statusCode).toBe(200);
    expect(await badge(a.admin)).toMatchObject({ certified: true });
  });

  it("tests payouts when a withdrawal method pays out through the integration, routing API-5 to the run", {
    timeout: 90_000,
  }, async () => {
    const method = await a.owner.post("/api/admin/withdrawal-methods", {
      name: "Payout through the PSP",
      currencies: [{ code: "USD", min: "1.00", max: "1000.00" }],
      fields: [{ key: "iban", label: "IBAN", required: true }],
      payoutMode: "integration",
      integrationId: fx.integrationId,
      approval: { bands: [{ from: "0", levels: 2 }] },
    });
    expect(method.statusCode, method.body).toBe(201);
    const start = await a.admin.post(runsUrl(), {});
    expect(start.statusCode).toBe(202);
    const run = await finished(a.admin, (start.json() as { id: string }).id);
    const payoutCases = run.report!.cases.filter((c) => c.id.startsWith("payout."));
    expect(payoutCases.map((c) => [c.id, c.verdict, c.detail])).toEqual(
      payoutCases.map((c) => [c.id, "passed", c.detail]),
    );
    expect(payoutCases).toHaveLength(4);
    // The test payout's API-5 callbacks went to the run: nothing in the callback log, no withdrawal.
    const logged = await t.ctx.db
      .selectFrom("callback_logs")
      .select("id")
      .where("source", "=", "payout_callback")
      .execute();
    expect(logged).toEqual([]);
    await t.ctx.db.deleteFrom("withdrawal_methods").where("id", "=", method.json().id).execute();
  });

  it("does not certify a backend that breaks a case, and says which", { timeout: 90_000 }, async () => {
    await setAppUrl(await simFor(["api2_no_retry"]));
    try {
      const { run, done } = await startCertifyRun(
        t.ctx,
        { tenantId: a.tenantId, audit: { type: "user", id: "test" }, ip: null },
        fx.integrationId,
        { manual: false, waits: { retryWaitMs: 3_000 } },
      );
      await done;
      const view = await finished(a.admin, run.id);
      expect(view.certified).toBe(false);
      expect(view.report!.cases.filter((c) => c.verdict === "failed").map((c) => c.id)).toEqual([
        "api2.retry_after_500",
      ]);
    } finally {
      await setAppUrl(sims[0]!.url);
    }
  });

  it("in manual mode lists each test order's payment page and what to do there", {
    timeout: 90_000,
  }, async () => {
    const start = await a.admin.post(runsUrl(), { manual: true });
    expect(start.statusCode).toBe(202);
    const run = await finished(a.admin, (start.json() as { id: string }).id);
    const view = (await a.admin.get(`${runsUrl()}/${(start.json() as { id: string }).id}`)).json() as {
      manual: boolean;
      prompts: Array<{ caseId: string; url: string; action: string }>;
    };
    expect(view.manual).toBe(true);
    expect(view.prompts.map((p) => [p.caseId, p.action])).toEqual([
      ["api2.success", "pay it (success)"],
      ["api2.failure", "decline it (failure)"],
      ["api2.processing", "report it processing, then paid"],
      ["api2.stop_after_400", "pay 10.00 instead of 10.04"],
    ]);
    for (const p of view.prompts) expect(p.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pay\/page\//);
    // The simulator's hooks settled the orders anyway.
    expect(run.certified).toBe(true);
  });

  it("keeps runs to their tenant and lets only writers start one", async () => {
    const [latest] = ((await a.viewer.get(runsUrl())).json() as { items: Array<{ id: string }> }).items;
    expect((await b.admin.get(runsUrl())).statusCode).toBe(404);
    expect((await b.admin.get(`${runsUrl()}/${latest!.id}`)).statusCode).toBe(404);
    expect((await b.admin.get(`${runsUrl()}/${latest!.id}/report.html`)).statusCode).toBe(404);
    expect((await b.admin.post(runsUrl(), {})).statusCode).toBe(404);
    expect(await badge(b.admin)).toBeUndefined();
    expect((await a.viewer.post(runsUrl(), {})).statusCode).toBe(403);
  });
});
