import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { insertAssistanceItem } from "../../apps/server/src/test/assistance-items.js";
import { loginClient, loginStaff, type Session, TEST_PASSWORD } from "../../apps/server/src/test/test-app.js";
import { axeViolations } from "./support/axe.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * An order the API-3 status queries left unresolved is resolved from the review queue with four
 * eyes: admin A asks to credit it above the tenant's limit, and cannot approve it herself; the
 * owner approves; the client's wallet shows the credit once.
 */
describe.skipIf(!hasChromium)("needs assistance, four eyes (Chromium)", () => {
  const e2e = useSeededStack("assist");
  const contexts: BrowserContext[] = [];
  let owner: Session;
  const ada = { email: "ada@assist.test", password: TEST_PASSWORD };

  const browserOf = async (email: string, password: string): Promise<Page> => {
    const ctx = await newContext(e2e.chrome.browser);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, email, password);
    return page;
  };
  const shotOnFailure = (page: () => Page | undefined, name: string) =>
    onTestFailed(async () => {
      await page()
        ?.screenshot({ path: screenshotPath(`failure-${name}`), fullPage: true })
        .catch(() => {});
    });

  beforeAll(async () => {
    await createUser(e2e.stack.app.ctx, e2e.stack.tenant.id, {
      email: ada.email,
      name: "Ada Admin",
      password: ada.password,
      role: "admin",
    });
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    const limits = await owner.put("/api/admin/settings/four-eyes", { limits: { USD: "50.00" } });
    expect(limits.statusCode, limits.body).toBe(200);
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
  });

  /** A pending order, flagged as the status-query schedule flags one whose backend never knew it. */
  async function flaggedOrder(): Promise<{ orderNo: string; depositId: string }> {
    const client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const res = await client.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount: "100",
      fields: { custom_1: "Jane Q Client" },
    });
    if (res.statusCode !== 201) throw new Error(`deposit: ${res.statusCode} ${res.body}`);
    const { orderNo } = res.json() as { orderNo: string };
    const deposit = await e2e.stack.app.ctx.db
      .selectFrom("deposits")
      .select("id")
      .where("order_no", "=", orderNo)
      .executeTakeFirstOrThrow();
    await insertAssistanceItem(e2e.stack.app.ctx, {
      id: `assist-${deposit.id}`,
      tenantId: e2e.stack.tenant.id,
      depositId: deposit.id,
      now: Date.now(),
      claim: { why: "not_found", lastOutcome: "order_not_found", depositStatus: "pending" },
    });
    return { orderNo, depositId: deposit.id };
  }

  it("admin A requests a credit above the limit, admin B approves it, and the wallet shows it", async () => {
    let current: Page | undefined;
    shotOnFailure(() => current, "needs-assistance");
    const { orderNo, depositId } = await flaggedOrder();

    const a = await browserOf(ada.email, ada.password);
    current = a;
    await a.goto(`${e2e.stack.baseUrl}/admin/review`);
    const filter = a.getByTestId("filter-needs-assistance");
    await expectText(filter, "1");
    await filter.click();
    const row = a.getByTestId("review-table").locator("tbody tr", { hasText: orderNo });
    await expectText(row.getByTestId("assistance-why"), "The PSP does not know the order");
    await expectText(row.getByTestId("assistance-why"), "8 queries");
    await expectText(row.getByTestId("review-credit"), "97.20 USD");
    await expectText(row.getByTestId("needs-second-approver"), "Needs a second approver");
    expect(await axeViolations(a)).toEqual([]);

    await row.getByRole("button", { name: "Credit" }).click();
    const dialog = a.getByRole("dialog");
    await expectText(
      dialog.getByTestId("four-eyes-rule"),
      "Credits above 50.00 USD need a second admin's approval",
    );
    await dialog.getByRole("textbox", { name: "Comment" }).fill("Bank slip received from the client");
    await dialog.getByRole("button", { name: "Credit" }).click();
    await expectText(row.getByTestId("approval"), "Awaiting approval");
    await expectText(row.getByTestId("approval"), "Ada Admin asked to credit 97.20 USD");
    // The requester cannot approve her own request, and is told why.
    expect(await row.getByRole("button", { name: "Approve" }).isDisabled()).toBe(true);
    await expectText(row, "another admin must approve or decline it");
    // Checked once the dialog has closed: a fading dialog is not what a person reads.
    await dialog.waitFor({ state: "detached" });
    expect(await axeViolations(a)).toEqual([]);

    const b = await browserOf(e2e.stack.owner.email, e2e.stack.owner.password);
    current = b;
    await b.goto(`${e2e.stack.baseUrl}/admin/review?reason=needs_assistance`);
    const rowB = b.getByTestId("review-table").locator("tbody tr", { hasText: orderNo });
    await expectText(rowB.getByTestId("approval"), "Bank slip received from the client");
    await rowB.getByRole("button", { name: "Approve" }).click();
    const dialogB = b.getByRole("dialog");
    await expectText(dialogB, "97.20 USD");
    await dialogB.getByRole("textbox", { name: "Comment" }).fill("Slip matches the PSP statement");
    await dialogB.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => rowB.count(), { timeout: 15_000 }).toBe(0);

    // The deposit's timeline names both people.
    await b.goto(`${e2e.stack.baseUrl}/admin/deposits/${depositId}`);
    await expectText(b.getByTestId("timeline"), "Credit approved");
    const people = b.getByTestId("timeline").getByTestId("four-eyes-people");
    await expect
      .poll(() => people.allTextContents())
      .toContain("Asked by Ada Admin, approved by Olivia Owner");

    const clients = (await owner.get("/api/admin/clients?limit=10")).json() as {
      items: { id: string; email: string }[];
    };
    const clientId = clients.items.find((c) => c.email === e2e.setup.client.email)!.id;
    await b.goto(`${e2e.stack.baseUrl}/admin/clients/${clientId}`);
    await expectText(b.getByTestId("client-wallets"), "97.20");
    const ledger = await e2e.stack.app.ctx.db
      .selectFrom("ledger_entries as l")
      .innerJoin("deposits as d", "d.id", "l.deposit_id")
      .select("l.amount_minor")
      .where("d.order_no", "=", orderNo)
      .execute();
    expect(ledger.map((l) => Number(l.amount_minor))).toEqual([9_720]);
  });

  it("edits the integration's API-3 settings: off by default, the default schedule shown, a step removed", async () => {
    let current: Page | undefined;
    shotOnFailure(() => current, "status-query-settings");
    const page = await browserOf(e2e.stack.owner.email, e2e.stack.owner.password);
    current = page;
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    const card = page.getByTestId("status-query");
    await expectText(card, "Default: 1 min, 5 min ×5, 1 h, 1 d");
    const toggle = card.getByRole("switch", { name: "Query the PSP for the status of open orders" });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.dispatchEvent("click");
    await card.getByRole("button", { name: "Remove query 8" }).click();
    await page.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(
        async () =>
          (await owner.get(`/api/admin/integrations/${e2e.setup.integrationId}`)).json().statusQuery,
      )
      .toEqual({ enabled: true, scheduleSeconds: [60, 300, 300, 300, 300, 300, 3600], timeoutMs: 10_000 });
  });
});
