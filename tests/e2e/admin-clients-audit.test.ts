import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, dismissToasts, expectText } from "./support/ui.js";

/**
 * Managing a client in the back office and reading what was done in the audit log: edit with
 * a country picked by name, a portal password reset shown once, disabling (the portal then
 * refuses the client), the audit log in words with a field-by-field diff, and a deposit's
 * custom field under its label.
 */
describe.skipIf(!hasChromium)("clients and the audit log (Chromium)", () => {
  const e2e = useSeededStack("clients");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;
  let clientId: string;

  const portalLoginStatus = async (password: string) =>
    (
      await fetch(`${e2e.stack.baseUrl}/api/portal/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ tenant: e2e.stack.tenant.slug, email: e2e.setup.client.email, password }),
      })
    ).status;

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    clientId = (await owner.get("/api/admin/clients")).json().items[0].id;
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });
  afterAll(async () => ctx?.close());

  it("shows a deposit's custom field under the method's label, not its key", async () => {
    const portal = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const res = await portal.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount: "25.00",
      fields: { custom_1: "Jane Q Client" },
    });
    expect(res.statusCode).toBe(201);
    const { orderNo } = res.json();
    const id = (await owner.get(`/api/admin/deposits?orderNo=${orderNo}`)).json().items[0].id;
    await page.goto(`${e2e.stack.baseUrl}/admin/deposits/${id}`);
    const fields = page.getByTestId("deposit-fields");
    await expectText(fields, "Name on card: Jane Q Client");
    expect(await fields.textContent()).not.toContain("custom_1");
  });

  it("edits a client with a country picked by name, resets its portal password once, and disables it", async () => {
    await page.goto(`${e2e.stack.baseUrl}/admin/clients/${clientId}`);
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Name", exact: true }).fill("Jane Q Client");
    await dialog.getByRole("textbox", { name: "Phone", exact: true }).fill("+34 600 000 000");
    const country = dialog.getByRole("combobox", { name: "Nationality", exact: true });
    await country.fill("Spain");
    await page.getByRole("option", { name: "Spain (ES)" }).click();
    await dialog.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: "Jane Q Client" }).waitFor();
    await expectText(page.getByTestId("client-details"), "Nationality: Spain (ES)");
    expect((await owner.get(`/api/admin/clients/${clientId}`)).json()).toMatchObject({
      name: "Jane Q Client",
      nationality: "es",
      phone: "+34 600 000 000",
    });

    await page.getByRole("button", { name: "Reset portal password" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Reset portal password" }).click();
    const shown = page.getByTestId("reset-password");
    await expectText(shown, /^[a-z2-9]{4}(-[a-z2-9]{4}){4}$/);
    const password = ((await shown.textContent()) ?? "").trim();
    await page.getByRole("dialog").getByRole("button", { name: "Close" }).click();
    expect(await portalLoginStatus(e2e.setup.client.password)).toBe(401);
    expect(await portalLoginStatus(password)).toBe(200);

    await page.getByRole("button", { name: "Disable client" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Disable client" }).click();
    await page.getByRole("button", { name: "Enable client" }).waitFor();
    await expectText(page.locator('[data-status="disabled"]'), "Disabled");
    expect(await portalLoginStatus(password)).toBe(401);
  });

  it("hides client management from a viewer", async () => {
    const viewerCtx = await newContext(e2e.chrome.browser);
    try {
      const viewer = await viewerCtx.newPage();
      await adminLogin(viewer, e2e.stack.baseUrl, e2e.stack.viewer.email, e2e.stack.viewer.password);
      await viewer.goto(`${e2e.stack.baseUrl}/admin/clients/${clientId}`);
      await viewer.getByRole("heading", { name: "Jane Q Client" }).waitFor();
      for (const name of ["Edit", "Reset portal password", "Disable client", "Enable client"]) {
        expect(await viewer.getByRole("button", { name, exact: true }).count(), name).toBe(0);
      }
    } finally {
      await viewerCtx.close();
    }
  });

  it("reads the audit log in words, with the actor's name and only the changed fields highlighted", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    const table = page.getByTestId("audit-table");
    await expectText(table, "Client disabled");
    await expectText(table, "Client's portal password reset");
    await expectText(table, "Olivia Owner");
    await table.getByText("Client edited", { exact: true }).click();
    const diff = page.getByTestId("audit-diff");
    await diff.waitFor();
    const rows = await diff
      .locator("tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector("td")?.textContent ?? "", tr.getAttribute("data-changed")]),
      );
    expect(Object.fromEntries(rows)).toEqual({
      name: "true",
      email: "false",
      phone: "true",
      nationality: "true",
      language: "false",
      group: "false",
      portalAccess: "false",
      disabled: "false",
    });
    await expectText(diff, "Jane Q Client");
    await dismissToasts(page);
    await page.getByRole("dialog").screenshot({ path: screenshotPath("admin-audit-diff") });
  });
});
