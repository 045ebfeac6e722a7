import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { newId } from "../../apps/server/src/common/ids.js";
import { insertAssistanceItem } from "../../apps/server/src/test/assistance-items.js";
import { insertDeposit } from "../../apps/server/src/test/callback-client.js";
import type { PaymentFixture } from "../../apps/server/src/test/payment-fixtures.js";
import { axeViolations } from "./support/axe.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * The dashboard in a real browser: seeded orders show as per-currency tiles and a chart, the
 * review queue's counts link to the filtered queue, and a tile opens the filtered deposits list.
 */
describe.skipIf(!hasChromium)("back-office dashboard (Chromium)", () => {
  const e2e = useSeededStack("dashboard");
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const { db } = e2e.stack.app.ctx;
    const client = await db
      .selectFrom("clients")
      .select("id")
      .where("tenant_id", "=", e2e.stack.tenant.id)
      .executeTakeFirstOrThrow();
    const fx = {
      tenantId: e2e.stack.tenant.id,
      integrationId: e2e.setup.integrationId,
      methodId: e2e.setup.methodId,
      clientId: client.id,
    } as PaymentFixture;
    const now = Date.now();
    for (const amount of [10_000, 2_550, 1]) {
      await insertDeposit(e2e.stack.app.ctx, fx, {
        status: "succeeded",
        amount_minor: amount,
        created_at: now,
      });
    }
    await insertDeposit(e2e.stack.app.ctx, fx, { status: "failed", created_at: now });
    await insertDeposit(e2e.stack.app.ctx, fx, { currency: "EUR", status: "pending", created_at: now });
    const open = await insertDeposit(e2e.stack.app.ctx, fx, { status: "processing", created_at: now });
    await insertAssistanceItem(e2e.stack.app.ctx, {
      id: newId(),
      tenantId: fx.tenantId,
      depositId: open.id,
      now,
    });
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  const shotOnFailure = () =>
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath("failure-dashboard"), fullPage: true }).catch(() => {});
    });

  it("lands on the dashboard: tiles per currency, a chart, health and review counts; no axe violations", async () => {
    shotOnFailure();
    await page.getByTestId("dashboard").waitFor();
    const succeeded = page.getByTestId("tile-USD-succeeded");
    await expectText(succeeded.getByTestId("count"), "3");
    await expectText(succeeded.getByTestId("volume"), "125.51 USD");
    await expectText(page.getByTestId("tile-EUR-pending").getByTestId("count"), "1");
    // The chart is drawn by recharts: an svg inside the USD card.
    await page.getByTestId("currency-USD").locator("svg.recharts-surface").first().waitFor();
    await expectText(page.getByTestId(`integration-tile-${e2e.setup.integrationId}`), "Breaker: Closed");
    await expectText(page.getByTestId("needs-assistance"), "Needs assistance: 1");
    await page.screenshot({ path: screenshotPath("dashboard"), fullPage: true });
    expect(await axeViolations(page)).toEqual([]);
  });

  it("opens the list behind a figure, filtered", async () => {
    shotOnFailure();
    await page.getByTestId("tile-USD-succeeded").click();
    await page.waitForURL(/\/admin\/deposits\?status=succeeded&currency=USD&from=\d{4}-\d\d-\d\d&to=/);
    const rows = page.getByTestId("deposits-table").locator("tbody tr");
    await rows.nth(2).waitFor();
    expect(await rows.count()).toBe(3);

    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.getByTestId("needs-assistance").click();
    await page.waitForURL(/\/admin\/review\?reason=needs_assistance$/);
  });
});
