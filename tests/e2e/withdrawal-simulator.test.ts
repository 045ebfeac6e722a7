import { type RunningSim, startSim } from "@psphub/psp-sim";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { JobLoop } from "../../apps/server/src/infra/jobs/job-loop.js";
import { startPayoutWorker } from "../../apps/server/src/modules/payouts/payout-worker.js";
import { createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { loginClient, loginStaff, type Session, TEST_PASSWORD } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { ok } from "./support/stack.js";
import { adminLogin, expectText, portalLogin } from "./support/ui.js";

/**
 * A withdrawal paid out by the reference simulator (issue 21's browser test): a client asks for
 * 100.00 in the portal; two admins approve the two levels in the back office; the payout starts
 * by itself (API-4 to the simulator); on the simulator's payout page "Pay" sends API-5; the back
 * office shows it paid and the client sees the debit.
 */
describe.skipIf(!hasChromium)("a withdrawal paid out by the simulator (Chromium)", () => {
  const e2e = useSeededStack("simpay");
  const ann = { email: "ann@simpay.test", name: "Ann Admin" };
  const bob = { email: "bob@simpay.test", name: "Bob Admin" };
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  let client: Session;
  let sim: RunningSim;
  let job: JobLoop;

  const open = async (width = 1280): Promise<Page> => {
    const ctx = await newContext(e2e.chrome.browser, { width });
    contexts.push(ctx);
    const page = await ctx.newPage();
    pages.push(page);
    return page;
  };
  const wallet = async () =>
    (
      (await client.get("/api/portal/wallets")).json() as {
        items: { currency: string; balance: string; held: string; available: string }[];
      }
    ).items.find((w) => w.currency === "USD");

  beforeAll(async () => {
    const { stack } = e2e;
    for (const p of [ann, bob])
      await createUser(stack.app.ctx, stack.tenant.id, { ...p, password: TEST_PASSWORD, role: "admin" });
    const owner = await loginStaff(stack.app.app, stack.owner.email, stack.owner.password);
    client = await loginClient(
      stack.app.app,
      stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );

    // The simulator is the backend of a new integration, which pays out withdrawals.
    const integrationId = ok(
      await owner.post("/api/admin/integrations", {
        name: "Simulator payouts",
        appUrl: "http://127.0.0.1:9",
      }),
      "create integration",
    ).id;
    const revealed = (await owner.post(`/api/admin/integrations/${integrationId}/reveal`)).json() as {
      merchantId: string;
      token: string;
    };
    sim = await startSim({
      port: 0,
      callbackUrl: `${stack.baseUrl}/api/psp`,
      integrations: [{ token: revealed.token, merchantId: revealed.merchantId }],
      log: () => {},
    });
    ok(
      await owner.patch(`/api/admin/integrations/${integrationId}`, { appUrl: sim.url }),
      "point at the simulator",
    );
    ok(
      await owner.post("/api/admin/withdrawal-methods", {
        name: "Bank payout",
        currencies: [{ code: "USD", min: "10.00", max: "5000.00", feeFixed: "0.50" }],
        fields: [{ key: "iban", label: "IBAN", required: true }],
        payoutMode: "integration",
        integrationId,
        approval: { bands: [{ from: "0", levels: 2 }], autoPayout: true },
      }),
      "create the method",
    );

    // Funded as a client funds a wallet: 500.00 paid on the deposit stub's page (fee 12.80).
    const res = await client.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount: "500.00",
      fields: { custom_1: "Jane Q Client" },
    });
    expect(res.statusCode, res.body).toBe(201);
    const paid = await fetch(
      `${stack.stub.url}/pay/page/${(res.json() as { orderNo: string }).orderNo}/pay`,
      {
        method: "POST",
      },
    );
    expect(paid.status).toBe(200);
    expect(await wallet()).toMatchObject({ balance: "487.20", held: "0.00" });

    // The payout job, as `serve` runs it.
    job = startPayoutWorker(stack.app.ctx, { pollMs: 200, concurrency: 2 });
  });
  afterAll(async () => {
    await job?.stop();
    for (const ctx of contexts) await ctx.close();
    await sim?.close();
  });

  it("a client withdraws, two admins approve, the simulator pays, and the client sees the debit", async () => {
    onTestFailed(async () => {
      for (const [i, p] of pages.entries())
        await p.screenshot({ path: screenshotPath(`failure-simpay-${i}`), fullPage: true }).catch(() => {});
    });
    const { baseUrl } = e2e.stack;

    // ---- The client asks for 100.00.
    const portal = await open(1024);
    await portalLogin(
      portal,
      baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    await portal.getByRole("tab", { name: "Withdraw" }).click();
    const form = portal.getByTestId("withdraw-form");
    await form.getByRole("textbox", { name: "Amount (USD)" }).fill("100.00");
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    await expectText(form.getByTestId("preview-payout"), "99.50 USD");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form.getByTestId("withdraw-success"), "100.00 USD is held in your wallet");
    expect(await wallet()).toMatchObject({ balance: "487.20", held: "100.00", available: "387.20" });

    // ---- Ann and Bob approve the two levels.
    let withdrawalId = "";
    for (const who of [ann, bob]) {
      const page = await open();
      await adminLogin(page, baseUrl, who.email, TEST_PASSWORD);
      if (!withdrawalId) {
        // Ann finds it in the queue, waiting for level 1; Bob opens it from there.
        await page.getByRole("link", { name: "Withdrawals" }).click();
        await page.getByTestId("withdrawals-table").getByRole("link").first().click();
        await page.waitForURL(/\/admin\/withdrawals\/[^/]+$/);
        withdrawalId = page.url().split("/").pop()!;
      } else await page.goto(`${baseUrl}/admin/withdrawals/${withdrawalId}`);
      await page.getByRole("button", { name: "Approve" }).click();
      await page.getByRole("dialog").getByRole("textbox", { name: "Comment" }).fill(`checked by ${who.name}`);
      await page.getByRole("dialog").getByRole("button", { name: "Approve" }).click();
      await expectText(page.getByTestId("withdrawal-decisions"), `checked by ${who.name}`);
    }
    const admin = pages.at(-1)!;

    // ---- The payout starts by itself: API-4 reaches the simulator, the withdrawal is being paid.
    await expectText(admin.locator("h2"), /Being paid|Paying/, 20_000);
    const detail = (
      await (
        await loginStaff(e2e.stack.app.app, ann.email, TEST_PASSWORD)
      ).get(`/api/admin/withdrawals/${withdrawalId}`)
    ).json() as { payoutNo: string };

    // ---- On the simulator's payout page, "Pay" sends API-5.
    const simPage = await open();
    await simPage.goto(`${sim.url}/payout/${detail.payoutNo}`);
    await expectText(simPage.locator("h1"), "Pay out 99.50 USD");
    await simPage.getByRole("button", { name: "Pay", exact: true }).click();
    await expectText(simPage.locator("body"), /204/);
    await simPage.screenshot({ path: screenshotPath("sim-payout-page"), fullPage: true });

    // ---- The back office shows it paid, and the client sees the debit.
    await expectText(admin.locator("h2"), "Paid", 20_000);
    await expectText(admin.getByTestId("wallet-held"), "0.00 USD");
    await admin.screenshot({ path: screenshotPath("admin-withdrawal-paid-by-simulator"), fullPage: true });
    await portal.reload();
    await portal.getByRole("tab", { name: "Wallets" }).click();
    await expectText(portal.getByTestId("balance-USD"), "387.20 USD");
    await expectText(portal.getByTestId("available-USD"), "Available 387.20 USD · held 0.00 USD");
    await portal.getByRole("tab", { name: "Withdraw" }).click();
    await expectText(portal.getByTestId("withdrawal-list"), "Paid");
    expect(await wallet()).toMatchObject({ balance: "387.20", held: "0.00", available: "387.20" });
  });

  it("puts the withdrawal methods in the order the owner chooses, as the portal offers them", async () => {
    const owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    ok(
      await owner.post("/api/admin/withdrawal-methods", {
        name: "Crypto wallet",
        currencies: [{ code: "USD", min: "10.00", max: "5000.00" }],
        fields: [{ key: "address", label: "Wallet address", required: true }],
        approval: { bands: [{ from: "0", levels: 1 }] },
      }),
      "second method",
    );
    const page = await open();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
    await page.getByRole("link", { name: "Withdrawal methods" }).click();
    await page.getByRole("button", { name: "Move Crypto wallet up" }).click();
    await expect
      .poll(async () =>
        (
          (await client.get("/api/portal/withdrawal-methods")).json() as { items: { name: string }[] }
        ).items.map((m) => m.name),
      )
      .toEqual(["Crypto wallet", "Bank payout"]);
  });
});
