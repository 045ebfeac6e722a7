import { type RunningSim, startSim } from "@psphub/psp-sim";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { ok } from "./support/stack.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * "Run conformance tests" in the back office (issue 20): an admin runs the suite against the
 * reference simulator from the integration's page, sees every case and the certified badge, opens
 * the report, and sees the badge go out of date after a change of APP_URL.
 */
describe.skipIf(!hasChromium)("conformance tests from the back office (Chromium)", () => {
  const e2e = useSeededStack("certify");
  let owner: Session;
  let sim: RunningSim;
  let integrationId: string;
  let desk: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const { stack } = e2e;
    owner = await loginStaff(stack.app.app, stack.owner.email, stack.owner.password);
    integrationId = ok(
      await owner.post("/api/admin/integrations", { name: "Simulator PSP", appUrl: "http://127.0.0.1:9" }),
      "create integration",
    ).id;
    const revealed = (await owner.post(`/api/admin/integrations/${integrationId}/reveal`)).json() as {
      merchantId: string;
      token: string;
      callbackUrl: string;
    };
    sim = await startSim({
      port: 0,
      // The CRM as this test serves it (PUBLIC_URL is not this loopback port).
      callbackUrl: `${stack.baseUrl}/api/psp`,
      integrations: [{ token: revealed.token, merchantId: revealed.merchantId }],
      log: () => {},
    });
    ok(
      await owner.patch(`/api/admin/integrations/${integrationId}`, { appUrl: sim.url }),
      "point at the simulator",
    );
    desk = await newContext(e2e.chrome.browser);
    page = await desk.newPage();
    await adminLogin(page, stack.baseUrl, stack.owner.email, stack.owner.password);
  });

  afterAll(async () => {
    await sim?.close();
  });

  beforeEach(() => {
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath("failure-certify"), fullPage: true }).catch(() => {});
    });
  });

  it("runs the suite, lists every case, certifies the backend and opens the report", async () => {
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${integrationId}`);
    await page.getByRole("tab", { name: "Conformance" }).click();
    const panel = page.getByTestId("certify-panel");
    await expectText(panel.getByTestId("certified-badge"), "Not certified");
    await panel.getByTestId("certify-run").click();
    await expectText(panel.getByTestId("certify-running"), /Running/);
    await expectText(panel.getByTestId("certified-badge"), "Certified", 60_000);

    const cases = panel.getByTestId("certify-cases");
    await expectText(cases, /api2\.retry_after_500/);
    expect(await cases.locator("tr[data-verdict=failed]").count()).toBe(0);
    expect(await cases.locator("tr[data-verdict=passed]").count()).toBe(15);
    await expectText(panel.getByTestId("certify-history"), /Certified/);
    await page.screenshot({ path: screenshotPath("certify-panel"), fullPage: true });

    const [report] = await Promise.all([
      desk.waitForEvent("page"),
      panel.getByRole("link", { name: "Report" }).first().click(),
    ]);
    await report.waitForLoadState();
    await expectText(report.locator("body"), /Certified: every mandatory case passed/);
    await expectText(report.locator("body"), /api2\.stop_after_400/);
    await report.screenshot({ path: screenshotPath("certify-report"), fullPage: true });
    await report.close();

    // The list shows the badge.
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations`);
    const row = page.getByTestId("integrations-table").getByRole("row", { name: /Simulator PSP/ });
    await expectText(row.getByTestId("certified-badge"), "Certified");
  });

  it("says the certification is out of date once APP_URL changes", async () => {
    ok(
      await owner.patch(`/api/admin/integrations/${integrationId}`, { appUrl: `${sim.url}/v2` }),
      "change APP_URL",
    );
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations`);
    const row = page.getByTestId("integrations-table").getByRole("row", { name: /Simulator PSP/ });
    await expectText(row.getByTestId("certified-badge"), "Certification out of date");
  });
});
