import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import {
  hasChromium,
  launchBrowser,
  newContext,
  type RunningBrowser,
  screenshotPath,
} from "./support/chromium.js";
import { type Stack, startStack } from "./support/stack.js";
import { adminLogin, centre, choose, dismissToasts, expectText, portalLogin } from "./support/ui.js";

/**
 * The whole story in one test, in a real browser: an admin sets up a PSP integration with a
 * custom parameter and a deposit method with a relabelled field; a client deposits through the
 * portal; the stub's payment page opens in a new tab and its callback credits the wallet; the
 * portal shows it live; the admin sees the deposit, its timeline and the callback.
 */
describe.skipIf(!hasChromium)("whole story (Chromium)", () => {
  let stack: Stack;
  let chrome: RunningBrowser;
  let adminCtx: BrowserContext;
  let portalCtx: BrowserContext;
  const pageErrors: string[] = [];
  const pages: Page[] = [];
  const watch = (p: Page) => {
    pages.push(p);
    p.on("pageerror", (e) => pageErrors.push(`${p.url()}: ${e.message}`));
  };

  beforeAll(async () => {
    stack = await startStack("acme");
    chrome = await launchBrowser();
    adminCtx = await newContext(chrome.browser);
    portalCtx = await newContext(chrome.browser, { width: 1024, height: 760 });
  });

  afterAll(async () => {
    await chrome?.close();
    await stack?.close();
  });

  it("admin sets up, client deposits, callback credits, both sides see it", async () => {
    onTestFailed(async () => {
      for (const [i, p] of pages.entries()) {
        await p
          .screenshot({ path: screenshotPath(`failure-whole-story-${i}`), fullPage: true })
          .catch(() => {});
      }
    });
    const client = { name: "Jane Client", email: "jane@example.com", password: "client password 1" };

    // ---- 1. The admin logs in (a wrong password is refused inline first).
    const admin = await adminCtx.newPage();
    watch(admin);
    await admin.goto(`${stack.baseUrl}/admin/`);
    await admin.getByRole("textbox", { name: "Email", exact: true }).fill(stack.owner.email);
    await admin.getByRole("textbox", { name: "Password", exact: true }).fill("not the password");
    await admin.getByRole("button", { name: "Log in" }).click();
    await expectText(admin.getByTestId("login-error"), "Wrong email or password");
    await adminLogin(admin, stack.baseUrl, stack.owner.email, stack.owner.password);

    // ---- A PSP integration pointing at the stub, with one custom parameter.
    // The back office lands on the dashboard; the PSP settings have their own nav entry.
    await admin.getByRole("link", { name: "PSP settings" }).click();
    await admin.getByRole("link", { name: "New integration" }).click();
    await admin.getByRole("textbox", { name: "Name", exact: true }).fill("Stub PSP");
    await admin.getByRole("textbox", { name: "APP_URL", exact: true }).fill(stack.stub.url);
    await admin.getByRole("button", { name: "Add parameter" }).click();
    await admin.getByRole("textbox", { name: "Label for the client", exact: true }).fill("Card holder");
    await admin.getByRole("checkbox", { name: "Required" }).check();
    // The live preview shows the exact API-1 body, custom parameter included.
    await expectText(admin.getByTestId("api1-preview-body"), '"custom_1": "sample"');
    await admin.getByRole("button", { name: "Create integration" }).click();
    await admin.waitForURL(/\/admin\/integrations\/(?!new$)[^/]+$/);
    const integrationId = admin.url().split("/").pop()!;

    // The eye reveals merchant_id, token and CRM_Callback_URL; it hides them again.
    await expectText(admin.getByTestId("secret-token"), "••••");
    await admin.getByTestId("reveal-toggle").click();
    await expect.poll(() => admin.getByTestId("secret-token").textContent()).toMatch(/^[^•]{20,}$/);
    await expectText(admin.getByTestId("secret-callback-url"), "/api/psp");
    await dismissToasts(admin);
    await admin.mouse.move(0, 0);
    await admin.screenshot({ path: screenshotPath("admin-psp-settings-eye-open") });
    await admin.getByTestId("reveal-toggle").click();
    await expectText(admin.getByTestId("secret-token"), "••••");

    // ---- A deposit method on that integration, with the custom field relabelled.
    await admin.getByRole("link", { name: "Deposit methods" }).click();
    await admin.getByRole("link", { name: "New method" }).click();
    await admin.getByRole("textbox", { name: "Name", exact: true }).fill("Card");
    await choose(admin, "PSP integration", "Stub PSP");
    await admin.getByRole("textbox", { name: "Fee %", exact: true }).fill("2.5");
    await admin.getByRole("textbox", { name: "Fixed fee", exact: true }).fill("0.30");
    await admin.getByRole("textbox", { name: "Fee cap", exact: true }).fill("20.00");
    const fields = admin.getByTestId("deposit-fields");
    await expectText(fields, "custom_1");
    await fields.getByRole("textbox", { name: "Label for custom_1", exact: true }).fill("Name on card");
    await dismissToasts(admin);
    await centre(fields);
    await admin.screenshot({ path: screenshotPath("admin-deposit-method-fields") });
    await admin.getByRole("button", { name: "Create method" }).click();
    await admin.waitForURL(/\/admin\/methods\/(?!new$)[^/]+$/);

    // ---- A client with portal access.
    await admin.getByRole("link", { name: "Clients" }).click();
    await admin.getByRole("button", { name: "New client" }).click();
    const dialog = admin.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Name", exact: true }).fill(client.name);
    await dialog.getByRole("textbox", { name: "Email", exact: true }).fill(client.email);
    await dialog.getByRole("textbox", { name: "Portal password", exact: true }).fill(client.password);
    await dialog.getByRole("button", { name: "Create client" }).click();
    await admin.waitForURL(/\/admin\/clients\/[^/]+$/);

    // ---- 2. The client logs in and deposits with the field filled in.
    const portal = await portalCtx.newPage();
    watch(portal);
    await portalLogin(portal, stack.baseUrl, stack.tenant.slug, client.email, client.password);
    await portal.getByRole("tab", { name: "Deposit" }).click();
    await expectText(portal.getByTestId("method-Card"), "USD");
    await expectText(portal.getByTestId("method-Card"), "2.5% + 0.30 USD");
    const form = portal.getByTestId("deposit-form");
    await form.getByRole("textbox", { name: /Amount/ }).fill("100");
    // Fee and credit computed live: 2.5 % of 100.00 + 0.30 = 2.80; 97.20 credited.
    await expectText(portal.getByTestId("preview-fee"), "2.80 USD");
    await expectText(portal.getByTestId("preview-credit"), "97.20 USD");
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    await portal.screenshot({ path: screenshotPath("portal-deposit-form") });

    // ---- 3. Submit opens the stub's payment page in a new tab.
    const [payTab] = await Promise.all([
      portalCtx.waitForEvent("page"),
      form.getByRole("button", { name: "Continue to payment" }).click(),
    ]);
    watch(payTab);
    await payTab.waitForURL(`${stack.stub.url}/pay/page/**`);
    const orderNo = (await payTab.locator("#order").textContent())!;
    await expectText(payTab.locator('[data-key="custom_1"]'), "Jane Q Client");
    expect(stack.stub.api1Calls.at(-1)?.signatureValid).toBe(true);
    expect(stack.stub.api1Calls.at(-1)?.body.custom_1).toBe("Jane Q Client");
    await portal.waitForURL(`**/portal/deposits/${orderNo}`);
    await expectText(portal.getByTestId("deposit-waiting"), "Waiting for your payment");

    // ---- 4. The stub's callback arrives.
    await payTab.getByRole("button", { name: "Pay", exact: true }).click();
    await expectText(payTab.locator("#result"), "Payment complete");
    expect(stack.stub.callbacks.at(-1)?.httpStatus).toBe(204);

    // ---- 5. The portal shows success and the new balance, live (no reload).
    await expectText(portal.getByTestId("deposit-success"), "97.20 USD was added");
    await expectText(portal.getByTestId("new-balance"), "97.20 USD");
    await portal.screenshot({ path: screenshotPath("portal-success") });
    await portal.getByRole("tab", { name: "Wallets" }).click();
    await expectText(portal.getByTestId("balance-USD"), "97.20 USD");
    await portal.getByRole("tab", { name: "History" }).click();
    await expectText(portal.getByTestId("deposit-history"), orderNo);

    // ---- 6. The admin sees the deposit, its timeline and the callback in the log.
    await admin.getByRole("link", { name: "Deposits" }).click();
    const row = admin.getByTestId("deposits-table").getByRole("link", { name: orderNo });
    await row.click();
    const timeline = admin.getByTestId("timeline");
    for (const kind of ["created", "api1_call", "callback", "status_change", "ledger"]) {
      await timeline.locator(`[data-kind="${kind}"]`).first().waitFor();
    }
    await expectText(timeline.locator('[data-kind="callback"]'), "Accepted");
    await expectText(admin.getByTestId("ledger-entry"), "97.20 USD");
    await admin.screenshot({ path: screenshotPath("admin-deposit-timeline") });

    await admin.goto(`${stack.baseUrl}/admin/integrations/${integrationId}`);
    await admin.getByRole("tab", { name: "Callback log" }).click();
    const log = admin.getByTestId("callback-log");
    await expectText(log, orderNo);
    await expectText(log, "Accepted");

    // The client's wallet and ledger in the back office.
    await admin.getByRole("link", { name: "Clients" }).click();
    await admin.getByRole("link", { name: client.name }).click();
    await expectText(admin.getByTestId("client-wallets"), "97.20 USD");
    const ledger = admin.getByTestId("client-ledger");
    await expectText(ledger, "97.20 USD");
    await expectText(ledger, "Deposit");

    expect(pageErrors).toEqual([]);
  });
});
