import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, choose, expectText } from "./support/ui.js";

/**
 * One exponent per currency, in the back office: a deposit method that gives a currency other decimals
 * than the company already uses is refused by the server, and the method form shows the
 * server's message on that currency's Decimals field, where it can be corrected.
 */
describe.skipIf(!hasChromium)("one exponent per currency in the method form (Chromium)", () => {
  const e2e = useSeededStack("exponent");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    const first = await owner.post("/api/admin/deposit-methods", {
      name: "Tether (2)",
      integrationId: e2e.setup.integrationId,
      currencies: [{ code: "USDT", decimals: 2, min: "1", max: "1000" }],
    });
    expect(first.statusCode, first.body).toBe(201);
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  it("shows the server's refusal under the Decimals field of that currency, and saves once corrected", async () => {
    onTestFailed(async () => {
      await page
        .screenshot({ path: screenshotPath("failure-currency-exponent"), fullPage: true })
        .catch(() => {});
    });
    await page.goto(`${e2e.stack.baseUrl}/admin/methods/new`);
    await page.getByRole("textbox", { name: "Name", exact: true }).fill("Tether (6)");
    await choose(page, "PSP integration", "Stub PSP");
    const row = page.getByTestId("currency-0");
    await row.getByRole("textbox", { name: "Currency", exact: true }).fill("USDT");
    const decimals = row.getByRole("textbox", { name: "Decimals", exact: true });
    await decimals.fill("6");
    await row.getByRole("textbox", { name: "Minimum", exact: true }).fill("1");
    await row.getByRole("textbox", { name: "Maximum", exact: true }).fill("1000");
    await page.getByRole("button", { name: "Create method" }).click();

    // The field itself is marked invalid and described by the server's message.
    await expect.poll(() => decimals.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await decimals.getAttribute("aria-describedby")) ?? "";
    const message = page.locator(
      describedBy
        .split(/\s+/)
        .map((id) => `[id="${id}"]`)
        .join(", "),
    );
    await expectText(message, 'USDT already has 2 decimals (method "Tether (2)")');
    expect(page.url()).toMatch(/\/admin\/methods\/new$/);
    const names = (await owner.get("/api/admin/deposit-methods"))
      .json()
      .items.map((m: { name: string }) => m.name);
    expect(names).not.toContain("Tether (6)");

    await page.screenshot({ path: screenshotPath("admin-method-exponent-refused"), fullPage: true });

    // Corrected to the company's decimals, it saves.
    await decimals.fill("2");
    await page.getByRole("button", { name: "Create method" }).click();
    await page.waitForURL(/\/admin\/methods\/(?!new$)[^/]+$/);
    const saved = (await owner.get("/api/admin/deposit-methods"))
      .json()
      .items.find((m: { name: string }) => m.name === "Tether (6)");
    expect(saved.currencies[0].decimals).toBe(2);
  });
});
