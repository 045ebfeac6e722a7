import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { createOperator } from "../../apps/server/src/modules/platform/operator-auth.js";
import { loginStaff } from "../../apps/server/src/test/test-app.js";
import { axeViolations } from "./support/axe.js";
import {
  hasChromium,
  launchBrowser,
  newContext,
  type RunningBrowser,
  screenshotPath,
} from "./support/chromium.js";
import { type Stack, startStack } from "./support/stack.js";
import { adminLogin, dismissToasts, expectText, portalLogin } from "./support/ui.js";

/**
 * The platform operator's console in a real browser: the operator logs in, creates a company
 * with its first owner, and suspends it (confirm dialog, reason); that company's client, logged
 * in to the portal meanwhile, is sent to the login page with "This service is temporarily
 * unavailable", and a new login says the same; the company's back office shows a banner.
 */
describe.skipIf(!hasChromium)("the platform operator's console (Chromium)", () => {
  let stack: Stack;
  let chrome: RunningBrowser;
  let ops: BrowserContext;
  let clients: BrowserContext;
  let page: Page;
  let portal: Page;
  const operator = { email: "ops@platform.test", password: "operator password 1" };
  const client = { email: "jo@newco.test", password: "client password 1" };
  const pageErrors: string[] = [];

  beforeAll(async () => {
    stack = await startStack("opsco");
    chrome = await launchBrowser();
    await createOperator(stack.app.ctx, { ...operator, name: "Olga Operator" });
    ops = await newContext(chrome.browser);
    clients = await newContext(chrome.browser);
    page = await ops.newPage();
    portal = await clients.newPage();
    for (const p of [page, portal]) p.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await chrome?.close();
    await stack?.close();
  });

  it("creates a company, suspends it, and the company's portal shows that the service is unavailable", async () => {
    onTestFailed(async () => {
      await page
        .screenshot({ path: screenshotPath("operator-failure-console"), fullPage: true })
        .catch(() => {});
      await portal
        .screenshot({ path: screenshotPath("operator-failure-portal"), fullPage: true })
        .catch(() => {});
    });

    // Log in to the console.
    await page.goto(`${stack.baseUrl}/operator/`);
    await page.getByRole("textbox", { name: "Email", exact: true }).fill(operator.email);
    await page.getByRole("textbox", { name: "Password", exact: true }).fill(operator.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expectText(page.getByTestId("me-name"), "Olga Operator");
    await expectText(page.getByTestId("tenants-table"), "Acme Brokers");
    expect(await axeViolations(page)).toEqual([]);

    // Create a company with its first owner.
    await page.getByRole("button", { name: "Create a company" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Company code (slug)" }).fill("newco");
    await dialog.getByRole("textbox", { name: "Name", exact: true }).fill("New Co Markets");
    await dialog.getByRole("textbox", { name: "First owner's e-mail" }).fill("boss@newco.test");
    await dialog.getByRole("textbox", { name: "First owner's name" }).fill("Bo Boss");
    await dialog.getByLabel("First owner's password").fill("owner password 1");
    await dialog.getByRole("button", { name: "Create" }).click();
    const row = page.getByRole("row").filter({ hasText: "New Co Markets" });
    await expectText(row, "Active");

    // Its owner sets up a client with a portal login (the back office's API), who logs in.
    const owner = await loginStaff(stack.app.app, "boss@newco.test", "owner password 1");
    const made = await owner.post("/api/admin/clients", { name: "Jo Client", ...client });
    expect(made.statusCode, made.body).toBe(201);
    await portalLogin(portal, stack.baseUrl, "newco", client.email, client.password);

    // The tiles of the new company, then the suspension: a reason is required.
    await row.getByRole("button", { name: "Health" }).click();
    await expectText(page.getByTestId("tenant-tiles"), "Integrations enabled");
    await page.keyboard.press("Escape");
    await row.getByRole("button", { name: "Suspend" }).click();
    const confirm = page.getByRole("dialog");
    await confirm.getByRole("button", { name: "Suspend" }).click();
    await expectText(confirm, "Required");
    await confirm.getByRole("textbox", { name: "Reason" }).fill("Licence under review");
    await confirm.getByRole("button", { name: "Suspend" }).click();
    await expectText(row, "Suspended");
    await confirm.waitFor({ state: "detached" });
    await dismissToasts(page);
    await page.screenshot({ path: screenshotPath("operator-tenants"), fullPage: true });

    // The client's live portal: the next request ends the session with the message.
    await portal.getByRole("tab", { name: "History" }).click();
    await expectText(portal.getByTestId("login-notice"), "This service is temporarily unavailable");
    // And a new login says the same.
    await portal.getByRole("textbox", { name: "Company", exact: true }).fill("newco");
    await portal.getByRole("textbox", { name: "Email", exact: true }).fill(client.email);
    await portal.getByRole("textbox", { name: "Password", exact: true }).fill(client.password);
    await portal.getByRole("button", { name: "Log in" }).click();
    await expectText(portal.getByTestId("login-error"), "This service is temporarily unavailable");
    await portal.screenshot({ path: screenshotPath("operator-portal-unavailable") });

    // The company's back office still works and says what happened.
    const office = await (await newContext(chrome.browser)).newPage();
    await adminLogin(office, stack.baseUrl, "boss@newco.test", "owner password 1");
    await expectText(
      office.getByTestId("suspended-banner"),
      "The platform operator has suspended this company",
    );

    // The audit trail shows the operator's two actions.
    await page.getByRole("link", { name: "Audit trail" }).click();
    await expectText(page.getByTestId("operator-audit-table"), "Company suspended");
    await expectText(page.getByTestId("operator-audit-table"), "Company created");
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole("link", { name: "Unrouted callbacks" }).click();
    await expectText(page.getByTestId("unrouted-table"), "No unrouted callback.");
    // A callback for a merchant_id nobody has: listed with its reason, and counted by source.
    const stray = await fetch(`${stack.baseUrl}/api/psp/pay/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": "whatever" },
      body: JSON.stringify({
        merchant_id: "0".repeat(32),
        order_no: "strayorder01",
        amount: 1,
        currency: "USD",
        time: 1,
        status: 1,
        sign: "0".repeat(40),
      }),
    });
    expect(stray.status).toBe(400);
    await page.reload();
    await expectText(page.getByTestId("unrouted-table"), "`merchant_id` matches no enabled integration");
    await expectText(page.getByTestId("unrouted-sources"), "psp_setting_not_found");
    expect(await axeViolations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
