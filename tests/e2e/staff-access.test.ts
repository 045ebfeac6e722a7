import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { createTenant, createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import {
  hasChromium,
  launchBrowser,
  newContext,
  type RunningBrowser,
  screenshotPath,
} from "./support/chromium.js";
import { type Stack, startStack } from "./support/stack.js";
import { adminLogin, choose, expectText } from "./support/ui.js";

/**
 * Staff access in a real browser: a person who is staff at two companies logs in to
 * the first without a company code and to the other with its code, and the API keys table
 * shows a key limited by, then suspended with, the user who issued it.
 */
describe.skipIf(!hasChromium)("staff access (Chromium)", () => {
  let stack: Stack;
  let chrome: RunningBrowser;
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;

  beforeAll(async () => {
    stack = await startStack("access");
    chrome = await launchBrowser();
    owner = await loginStaff(stack.app.app, stack.owner.email, stack.owner.password);
    ctx = await newContext(chrome.browser);
    page = await ctx.newPage();
  });
  afterAll(async () => {
    await chrome?.close();
    await stack?.close();
  });

  const onFailureScreenshot = (name: string) =>
    onTestFailed(async () => {
      await page
        .screenshot({ path: screenshotPath(`staff-access-${name}-failure`), fullPage: true })
        .catch(() => {});
    });

  it("logs a person who is staff at two companies in to the first without a code, and to the one named with it", async () => {
    onFailureScreenshot("company-code");
    const beta = await createTenant(stack.app.ctx, {
      slug: "beta-access",
      name: "Beta Brokers",
      owner: { email: "owner@beta-access.test", name: "Bea Owner", password: "beta owner password" },
    });
    const pat = { email: "pat@shared.test", password: "pats one password" };
    await createUser(stack.app.ctx, stack.tenant.id, { ...pat, name: "Pat at Acme", role: "finance" });
    await createUser(stack.app.ctx, beta.tenantId, { ...pat, name: "Pat at Beta", role: "viewer" });

    // Without a code, the account joined first (Acme) is the one checked and opened.
    await page.goto(`${stack.baseUrl}/admin/`);
    await expectText(page.locator("form"), "If your email works for several companies, enter the code");
    await adminLogin(page, stack.baseUrl, pat.email, pat.password);
    await expectText(page.getByTestId("me-name"), "Pat at Acme");
    await page.getByRole("button", { name: /Log out/ }).click();

    await adminLogin(page, stack.baseUrl, pat.email, pat.password, "beta-access");
    await expectText(page.getByTestId("me-name"), "Pat at Beta");
    await expectText(page.getByTestId("me-role"), "Viewer");
    await page.screenshot({ path: screenshotPath("staff-access-company-code") });
    await page.getByRole("button", { name: /Log out/ }).click();

    // A password for the second company alone is wrong without its code, right with it.
    const victorAtBeta = { email: stack.viewer.email, password: "another password entirely" };
    await createUser(stack.app.ctx, beta.tenantId, {
      ...victorAtBeta,
      name: "Victor at Beta",
      role: "admin",
    });
    await page.goto(`${stack.baseUrl}/admin/`);
    await page.getByRole("textbox", { name: "Email", exact: true }).fill(victorAtBeta.email);
    await page.getByRole("textbox", { name: "Password", exact: true }).fill(victorAtBeta.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expectText(page.getByTestId("login-error"), "Wrong email or password.");
    await page.getByRole("textbox", { name: "Company code", exact: true }).fill("beta-access");
    await page.getByRole("button", { name: "Log in" }).click();
    await expectText(page.getByTestId("me-name"), "Victor at Beta");
    await page.getByRole("button", { name: /Log out/ }).click();
    await adminLogin(page, stack.baseUrl, stack.viewer.email, stack.viewer.password);
    await expectText(page.getByTestId("me-name"), "Victor Viewer");
    await page.getByRole("button", { name: /Log out/ }).click();
  });

  it("shows a key limited by its issuer's new role, then suspended while the issuer is disabled", async () => {
    onFailureScreenshot("keys");
    const oscar = { email: "oscar@access.test", password: "oscars password" };
    const created = await owner.post("/api/admin/users", { ...oscar, name: "Oscar", role: "owner" });
    expect(created.statusCode).toBe(201);
    const asOscar = await loginStaff(stack.app.app, oscar.email, oscar.password);
    const key = (
      await asOscar.post("/api/admin/api-keys", { name: "Nightly export", role: "owner" })
    ).json() as {
      key: string;
    };
    const useKey = () =>
      fetch(`${stack.baseUrl}/api/admin/users`, { headers: { authorization: `Bearer ${key.key}` } }).then(
        (r) => r.status,
      );
    expect(await useKey()).toBe(200);

    await adminLogin(page, stack.baseUrl, stack.owner.email, stack.owner.password);
    await page.goto(`${stack.baseUrl}/admin/users`);
    const keys = page.getByTestId("api-keys-table");
    const row = keys.getByRole("row", { name: /Nightly export/ });
    await expectText(row, "Oscar");
    await expectText(row, "Active");

    await choose(page, "Role of Oscar", "Finance");
    await expectText(row, "Limited");
    await expectText(row, "Acts as Finance: the role of Oscar now.");
    expect(await useKey()).toBe(403);

    await page
      .getByTestId("users-table")
      .getByRole("switch", { name: "Oscar may log in" })
      .click({ force: true });
    await expectText(row, "Suspended");
    await expectText(row, "Works again if Oscar is enabled again.");
    expect(await useKey()).toBe(401);
    await page.screenshot({ path: screenshotPath("staff-access-keys"), fullPage: true });
  });
});
