import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, it, onTestFailed } from "vitest";
import { newId, newOrderNo } from "../../apps/server/src/common/ids.js";
import { integrationHealthJob } from "../../apps/server/src/modules/integration-health/run-detectors.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * Alerts in a real browser: callbacks refused for a wrong token open "signature failures
 * spiking"; the Alerts page says what it means and where the runbook is, an admin acknowledges
 * it, and the integration's Health tab shows the figures behind it.
 */
describe.skipIf(!hasChromium)("alerts and integration health (Chromium)", () => {
  const e2e = useSeededStack("alerts");
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const now = Date.now();
    const { integrationId } = e2e.setup;
    const integ = await e2e.stack.app.ctx.db
      .selectFrom("psp_integrations")
      .select("merchant_id")
      .where("id", "=", integrationId)
      .executeTakeFirstOrThrow();
    for (let i = 0; i < 6; i++) {
      await e2e.stack.app.ctx.db
        .insertInto("callback_logs")
        .values({
          id: newId(),
          tenant_id: e2e.stack.tenant.id,
          integration_id: integrationId,
          deposit_id: null,
          merchant_id: integ.merchant_id,
          order_no: newOrderNo(),
          content_type: "application/json",
          raw_body: "{}",
          verdict: "rejected",
          error_type: "psp_token_invalid",
          http_status: 401,
          remote_addr: "127.0.0.1",
          created_at: now,
        })
        .execute();
    }
    await integrationHealthJob(e2e.stack.app.ctx);
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  it("lists the open alert with its meaning and runbook section, and acknowledges it", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath("failure-alerts"), fullPage: true }).catch(() => {});
    });
    await page.getByRole("link", { name: "Alerts" }).click();
    const table = page.getByTestId("alerts-table");
    await expectText(table, "Signature failures spiking");
    await expectText(table, "docs/operations.md#signature-failures-spiking");
    await expectText(table, "Stub PSP");
    await table.getByRole("button", { name: "Acknowledge" }).click();
    await expectText(table, /Acknowledged/);
  });

  it("shows the figures on the integration's Health tab", async () => {
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    await page.getByRole("tab", { name: "Health" }).click();
    const panel = page.getByTestId("health-panel");
    await expectText(panel, "Signature failures");
    const row = panel.getByRole("row", { name: /^Signature failures/ });
    await expectText(row, "6");
    await page.screenshot({ path: screenshotPath("integration-health"), fullPage: true });
  });
});
