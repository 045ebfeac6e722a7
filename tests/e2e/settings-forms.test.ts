import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, choose, expectText, portalLogin } from "./support/ui.js";

/**
 * The settings forms setting by setting, in a real browser, each change checked where it lands
 * (the API answer after saving, the live preview, the portal): the API-1 parameter table, the
 * custom-parameter editor, timeout and amount policy, the credentials' copy buttons, a deposit
 * method's currencies (decimals, limits, fees), lifetime, visibility and field labels, and the
 * audit log and users pages that record and govern all of it.
 */
describe.skipIf(!hasChromium)("settings forms (Chromium)", () => {
  const e2e = useSeededStack("forms");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;
  const pageErrors: string[] = [];

  type Integration = {
    name: string;
    enabled: boolean;
    api1TimeoutMs: number;
    amountPolicy: string;
    paramConfig: Record<string, { key: string; enabled: boolean }>;
    customParams: { key: string; label: string; type: string; required: boolean; options?: string[] }[];
  };
  const integration = async () =>
    (await owner.get(`/api/admin/integrations/${e2e.setup.integrationId}`)).json() as Integration;

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    ctx = await newContext(e2e.chrome.browser);
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2e.stack.baseUrl });
    page = await ctx.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  const onFailureScreenshot = (name: string) =>
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath(`failure-${name}`), fullPage: true }).catch(() => {});
    });

  it("edits the API-1 parameter table and the custom parameters, with a live preview, and saves them", async () => {
    onFailureScreenshot("integration-form");
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    const preview = page.getByTestId("api1-preview-body");
    await expectText(preview, '"user_name"');

    // Mandatory parameters: on, and locked on; the others can be switched off.
    for (const name of ["merchant_id", "order_no", "amount", "currency"]) {
      const sw = page.getByRole("switch", { name: `Send ${name}`, exact: true });
      expect(await sw.isChecked()).toBe(true);
      expect(await sw.isDisabled()).toBe(true);
    }
    expect(await page.getByRole("switch", { name: "Send phone", exact: true }).isDisabled()).toBe(false);

    // A renamed key and a switched-off parameter show in the preview at once.
    await page.getByRole("textbox", { name: "Key for user_name", exact: true }).fill("client_name");
    await page.getByRole("switch", { name: "Send phone", exact: true }).click({ force: true });
    await expectText(preview, '"client_name": "Jane Sample"');
    await expect.poll(() => preview.textContent()).not.toContain('"phone"');

    // A key used twice is refused inline, and nothing is saved.
    const emailKey = page.getByRole("textbox", { name: "Key for email", exact: true });
    await emailKey.fill("currency");
    await emailKey.blur();
    await expectText(page.getByTestId("param-table").locator('[data-param="email"]'), "already used");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expectText(page.getByTestId("form-error"), "Some fields need fixing");
    expect((await integration()).paramConfig.email!.key).toBe("email");
    await emailKey.fill("email");

    // Timeout and amount policy.
    await page.getByRole("textbox", { name: "API-1 timeout", exact: true }).fill("20");
    await choose(page, "Paid amount differs from the order", "Credit the amount paid");

    // Custom parameters: add a choice list with options and a throwaway row, remove the
    // throwaway, move the choice list first.
    const custom = page.getByTestId("custom-params");
    await custom.getByRole("button", { name: "Add parameter" }).click();
    const second = page.getByTestId("custom-param-1");
    await second.getByRole("textbox", { name: "Label for the client", exact: true }).fill("Bank");
    await second.getByRole("combobox", { name: "Type", exact: true }).click();
    await page.getByRole("option", { name: "Choice list" }).click();
    // A choice list without options is refused inline.
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expectText(second, "needs at least one option");
    const options = second.getByRole("combobox", { name: "Options" });
    for (const o of ["Alpha", "Beta"]) {
      await options.fill(o);
      await options.press("Enter");
    }
    await second.getByRole("checkbox", { name: "Required" }).check();
    await custom.getByRole("button", { name: "Add parameter" }).click();
    await page
      .getByTestId("custom-param-2")
      .getByRole("textbox", { name: "Label for the client" })
      .fill("Temp");
    await expectText(preview, '"custom_3"');
    await page.getByRole("button", { name: "Remove parameter 3" }).click();
    await expect.poll(() => preview.textContent()).not.toContain('"custom_3"');
    await page.getByRole("button", { name: "Move parameter 2 up" }).click();
    expect(
      await page
        .getByTestId("custom-param-0")
        .getByRole("textbox", { name: "Label for the client" })
        .inputValue(),
    ).toBe("Bank");
    await expectText(preview, '"custom_2"');

    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expectText(page.locator(".mantine-Notification-root"), "was saved");

    const saved = await integration();
    expect(saved.paramConfig.user_name).toEqual({ key: "client_name", enabled: true });
    expect(saved.paramConfig.phone!.enabled).toBe(false);
    expect(saved.paramConfig.email!.key).toBe("email");
    expect(saved.api1TimeoutMs).toBe(20_000);
    expect(saved.amountPolicy).toBe("credit_paid");
    expect(saved.customParams.map((p) => [p.key, p.label, p.type, p.required, p.options ?? null])).toEqual([
      ["custom_2", "Bank", "select", true, ["Alpha", "Beta"]],
      ["custom_1", "Card holder", "text", true, null],
    ]);

    // Reloaded, the form shows what was saved.
    await page.reload();
    await expectText(preview, '"client_name"');
    expect(await page.getByRole("textbox", { name: "Key for user_name", exact: true }).inputValue()).toBe(
      "client_name",
    );
    expect(await page.getByRole("switch", { name: "Send phone", exact: true }).isChecked()).toBe(false);
    expect(
      await page
        .getByTestId("custom-param-0")
        .getByRole("textbox", { name: "Label for the client" })
        .inputValue(),
    ).toBe("Bank");
  });

  it("copies each revealed credential, hides them again, and the audit log records the reveal without the token", async () => {
    onFailureScreenshot("credentials");
    const secrets = (
      await owner.post(`/api/admin/integrations/${e2e.setup.integrationId}/reveal`)
    ).json() as {
      merchantId: string;
      token: string;
      callbackUrl: string;
    };
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    const card = page.getByTestId("credentials-card");
    expect(await card.getByRole("button", { name: /^Copy / }).count()).toBe(0);
    await page.getByTestId("reveal-toggle").click();
    await expectText(page.getByTestId("secret-token"), secrets.token);
    for (const [label, value] of [
      ["merchant_id", secrets.merchantId],
      ["token", secrets.token],
      ["CRM_Callback_URL", secrets.callbackUrl],
    ] as const) {
      await card.getByRole("button", { name: `Copy ${label}`, exact: true }).click();
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    }
    await page.getByTestId("reveal-toggle").click();
    await expectText(page.getByTestId("secret-token"), "••••");
    expect(await card.getByRole("button", { name: /^Copy / }).count()).toBe(0);
    expect(await card.textContent()).not.toContain(secrets.token);

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("textbox", { name: "Action", exact: true }).fill("integration.reveal");
    await page.getByRole("button", { name: "Search" }).click();
    const table = page.getByTestId("audit-table");
    await expect
      // Every row found is a reveal, shown in words.
      .poll(
        async () =>
          new Set(
            (await table.locator("tbody tr").allTextContents()).map((r) =>
              r.includes("PSP credentials revealed"),
            ),
          ),
      )
      .toEqual(new Set([true]));
    expect(await table.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    // Who did it, by name.
    await expectText(table.locator("tbody tr").first(), "User Olivia Owner (you)");
    await table.locator("tbody tr").first().click();
    const dialog = page.getByRole("dialog");
    await expectText(dialog, "integration.reveal");
    expect(await dialog.textContent()).not.toContain(secrets.token);
    await page.keyboard.press("Escape");
  });

  it("switches an integration off and on from the list", async () => {
    onFailureScreenshot("integration-toggle");
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations`);
    const row = page.getByTestId("integrations-table").locator("tbody tr", { hasText: "Stub PSP" });
    await expectText(row, "Enabled");
    await row.getByRole("switch").click({ force: true });
    await page.getByRole("dialog").getByRole("button", { name: "Disable", exact: true }).click();
    await expectText(row.locator("[data-status]"), "Disabled");
    expect((await integration()).enabled).toBe(false);
    // The switch is disabled while its change reloads the list, and a forced click would be lost.
    await expect.poll(() => row.getByRole("switch").isEnabled()).toBe(true);
    // The disable toast may cover the switch's place on the page.
    await row.getByRole("switch").dispatchEvent("click");
    await expectText(row.locator("[data-status]"), "Enabled");
    expect((await integration()).enabled).toBe(true);
  });

  it("creates a deposit method with every setting, and the portal shows it as set", async () => {
    onFailureScreenshot("method-form");
    await page.goto(`${e2e.stack.baseUrl}/admin/methods/new`);
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Crypto");
    await choose(page, "PSP integration", "Stub PSP");
    // The deposit fields come from the integration's custom parameters, in their order.
    const fields = page.getByTestId("deposit-fields");
    await expect
      .poll(() =>
        fields.locator("[data-field]").evaluateAll((els) => els.map((e) => e.getAttribute("data-field"))),
      )
      .toEqual(["custom_2", "custom_1"]);
    await fields.getByRole("textbox", { name: "Label for custom_2", exact: true }).fill("Your bank");

    // A code that is not ISO 4217 needs its decimals: refused inline until given.
    const usdt = page.getByTestId("currency-0");
    await usdt.getByRole("textbox", { name: "Currency", exact: true }).fill("USDT");
    await usdt.getByRole("textbox", { name: "Minimum", exact: true }).fill("1.5");
    await usdt.getByRole("textbox", { name: "Maximum", exact: true }).fill("1000");
    await page.getByRole("button", { name: "Create method" }).click();
    await expectText(usdt, "Not an ISO 4217 code");
    await usdt.getByRole("textbox", { name: "Decimals", exact: true }).fill("6");
    await usdt.getByRole("textbox", { name: "Fee %", exact: true }).fill("1");
    await expectText(usdt, "Example: 100.000000 USDT pays a fee of 1.000000, 99.000000 credited.");

    await page.getByRole("button", { name: "Add currency" }).click();
    const eur = page.getByTestId("currency-1");
    await eur.getByRole("textbox", { name: "Currency", exact: true }).fill("EUR");
    await eur.getByRole("textbox", { name: "Minimum", exact: true }).fill("10");
    await eur.getByRole("textbox", { name: "Maximum", exact: true }).fill("500");
    await eur.getByRole("textbox", { name: "Fixed fee", exact: true }).fill("0.25");
    // Limits the wrong way round are refused inline.
    await eur.getByRole("textbox", { name: "Minimum", exact: true }).fill("600");
    await eur.getByRole("textbox", { name: "Minimum", exact: true }).blur();
    await page.getByRole("button", { name: "Create method" }).click();
    await expectText(eur, "Must not be less than the minimum");
    await eur.getByRole("textbox", { name: "Minimum", exact: true }).fill("10");

    await page.getByRole("textbox", { name: "Order lifetime", exact: true }).fill("90");
    await page.getByText("Only some groups", { exact: true }).click();
    await page.getByRole("button", { name: "Create method" }).click();
    await expectText(page.getByTestId("method-visibility"), "Name at least one client group");
    const groups = page.getByRole("combobox", { name: "Client groups" });
    await groups.fill("vip");
    await groups.press("Enter");
    await page.getByRole("button", { name: "Create method" }).click();
    await page.waitForURL(/\/admin\/methods\/(?!new$)[^/]+$/);
    const methodId = page.url().split("/").pop()!;

    const m = (await owner.get(`/api/admin/deposit-methods/${methodId}`)).json() as {
      orderTtlSeconds: number;
      visibility: string;
      clientGroups: string[];
      fieldLabels: Record<string, string>;
      currencies: {
        code: string;
        decimals: number;
        min: string;
        max: string;
        feePercent: string;
        feeFixed: string;
      }[];
    };
    expect(m.orderTtlSeconds).toBe(90 * 60);
    expect([m.visibility, m.clientGroups]).toEqual(["groups", ["vip"]]);
    expect(m.fieldLabels).toEqual({ custom_2: "Your bank" });
    expect(m.currencies.map((c) => [c.code, c.decimals, c.min, c.max, c.feeFixed])).toEqual([
      ["USDT", 6, "1.500000", "1000.000000", "0.000000"],
      ["EUR", 2, "10.00", "500.00", "0.25"],
    ]);
    expect(Number(m.currencies[0]!.feePercent)).toBe(1);

    // Only the vip group sees it: not this client, until the method is for all clients.
    const client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const names = async () =>
      ((await client.get("/api/portal/deposit-methods")).json() as { items: { name: string }[] }).items.map(
        (i) => i.name,
      );
    expect(await names()).not.toContain("Crypto");
    await page.getByText("All clients", { exact: true }).click();
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expectText(page.locator(".mantine-Notification-root"), "Crypto was saved");
    expect(await names()).toContain("Crypto");

    // The portal: currencies, limits and fees as set; the relabelled choice list, required inline.
    const portalCtx = await newContext(e2e.chrome.browser, { width: 1024, height: 800 });
    const portal = await portalCtx.newPage();
    portal.on("pageerror", (e) => pageErrors.push(e.message));
    await portalLogin(
      portal,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    await portal.getByRole("tab", { name: "Deposit" }).click();
    const card = portal.getByTestId("method-Crypto");
    await expectText(card, "USDT 1.500000 – 1,000.000000 · Fee: 1%");
    await expectText(card, "EUR 10.00 – 500.00 · Fee: 0.25 EUR");
    await card.click();
    const form = portal.getByTestId("deposit-form");
    await form.getByRole("textbox", { name: /Amount/ }).fill("200");
    await expectText(portal.getByTestId("preview-fee"), "2.000000 USDT");
    await expectText(portal.getByTestId("preview-credit"), "198.000000 USDT");
    await form.getByRole("button", { name: "Continue to payment" }).click();
    const bank = form.getByRole("combobox", { name: "Your bank" });
    await expectText(form, "Required");
    expect(await bank.getAttribute("aria-invalid")).toBe("true");
    await bank.click();
    expect(await portal.getByRole("option").allTextContents()).toEqual(["Alpha", "Beta"]);
    await portalCtx.close();
    expect(pageErrors).toEqual([]);
  });

  it("changes a user's role and access from the users page, and the role shapes the menu", async () => {
    onFailureScreenshot("users");
    await page.goto(`${e2e.stack.baseUrl}/admin/users`);
    const users = page.getByTestId("users-table");
    // The owner cannot demote or lock out themself here.
    expect(await users.getByRole("combobox", { name: "Role of Olivia Owner" }).isDisabled()).toBe(true);

    await choose(page, "Role of Victor Viewer", "Finance");
    await expectText(page.locator(".mantine-Notification-root"), "Victor Viewer was saved");
    const desk = await newContext(e2e.chrome.browser);
    const other = await desk.newPage();
    await adminLogin(other, e2e.stack.baseUrl, e2e.stack.viewer.email, e2e.stack.viewer.password);
    await expectText(other.getByTestId("me-role"), "Finance");
    await other.getByRole("link", { name: "Audit log" }).waitFor();
    expect(await other.getByRole("link", { name: "Users & API keys" }).count()).toBe(0);
    // Typed in anyway: a notice, not a page of refused requests.
    await other.goto(`${e2e.stack.baseUrl}/admin/users`);
    await expectText(other.getByTestId("forbidden-page"), "Your role may not do this");

    // Switched off: the next request of that session is refused and the login too.
    await users.getByRole("switch", { name: "Victor Viewer may log in" }).click({ force: true });
    await expectText(page.locator(".mantine-Notification-root"), "Victor Viewer was saved");
    await other.getByRole("link", { name: "Deposits" }).click();
    await other.getByTestId("login-notice").waitFor();
    await other.getByRole("textbox", { name: "Email", exact: true }).fill(e2e.stack.viewer.email);
    await other.getByRole("textbox", { name: "Password", exact: true }).fill(e2e.stack.viewer.password);
    await other.getByRole("button", { name: "Log in" }).click();
    await expectText(other.getByTestId("login-error"), "Wrong email or password");
    await desk.close();

    await users.getByRole("switch", { name: "Victor Viewer may log in" }).click({ force: true });
    await choose(page, "Role of Victor Viewer", "Viewer");
    await expect
      .poll(async () =>
        (
          (await owner.get("/api/admin/users")).json() as {
            items: { email: string; role: string; disabled: boolean }[];
          }
        ).items.find((u) => u.email === e2e.stack.viewer.email),
      )
      .toMatchObject({ role: "viewer", disabled: false });
  });
});
