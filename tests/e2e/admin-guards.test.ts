import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * The back office guarding its users, in a real browser: unsaved changes are not lost without a
 * question (links, browser back, tab close), disabling an integration says what it affects,
 * a rotated token is shown once to copy, form errors lead to the field and go once fixed,
 * read-only forms look it, and a logged-out page logs no failed request.
 */
describe.skipIf(!hasChromium)("back-office guards (Chromium)", () => {
  const e2e = useSeededStack("guards");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;

  type Integration = { name: string; enabled: boolean };
  const integration = async () =>
    (await owner.get(`/api/admin/integrations/${e2e.setup.integrationId}`)).json() as Integration;
  const integrationUrl = () => `${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`;
  const nameInput = () => page.getByRole("textbox", { name: "Name", exact: true });
  const leaveDialog = () => page.getByRole("dialog", { name: "Leave without saving?" });

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    ctx = await newContext(e2e.chrome.browser);
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: e2e.stack.baseUrl });
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  const onFailureScreenshot = (name: string) =>
    onTestFailed(async () => {
      await page
        .screenshot({ path: screenshotPath(`failure-guards-${name}`), fullPage: true })
        .catch(() => {});
    });

  it("logs no failed request and no console error on the login pages before login", async () => {
    const fresh = await newContext(e2e.chrome.browser);
    const p = await fresh.newPage();
    const problems: string[] = [];
    p.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    p.on("response", (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    try {
      await p.goto(`${e2e.stack.baseUrl}/admin/`);
      await p.getByRole("button", { name: "Log in" }).waitFor();
      await p.goto(`${e2e.stack.baseUrl}/portal/`);
      await p.getByRole("button", { name: "Log in" }).waitFor();
      // A deep link too: the probe runs, answers "not logged in", and the page goes to login.
      await p.goto(`${e2e.stack.baseUrl}/admin/integrations`);
      await p.getByRole("button", { name: "Log in" }).waitFor();
      expect(problems).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it("asks before leaving an edited form: an in-app link, the browser's back button, and tab close", async () => {
    onFailureScreenshot("unsaved");
    // Arrive through the app, so there is an entry to go back to.
    await page.goto(`${e2e.stack.baseUrl}/admin/methods`);
    await page.getByRole("link", { name: "PSP settings" }).click();
    await page.getByRole("link", { name: "Stub PSP" }).click();
    await expect.poll(() => nameInput().inputValue()).toBe("Stub PSP");

    // Untouched: leaving needs no question.
    await page.getByRole("link", { name: "Deposit methods" }).click();
    await page.waitForURL("**/admin/methods");
    await page.goBack();
    await page.waitForURL(`**/admin/integrations/${e2e.setup.integrationId}`);

    await nameInput().click();
    await nameInput().fill("Stub PSP renamed");

    // A link: stay keeps the page and the edit.
    await page.getByRole("link", { name: "Deposit methods" }).click();
    await expectText(leaveDialog(), "not saved");
    await leaveDialog().getByRole("button", { name: "Stay on this page" }).click();
    await expect.poll(() => leaveDialog().count()).toBe(0);
    expect(page.url()).toContain(`/admin/integrations/${e2e.setup.integrationId}`);
    expect(await nameInput().inputValue()).toBe("Stub PSP renamed");

    // The browser's back button: asked too; staying keeps the page.
    const back = await page.goBack().then(
      () => "went",
      (e: Error) => e.message,
    );
    await expectText(leaveDialog(), "not saved");
    expect(page.url(), back).toContain(`/admin/integrations/${e2e.setup.integrationId}`);
    await leaveDialog().getByRole("button", { name: "Stay on this page" }).click();
    await expect.poll(() => leaveDialog().count()).toBe(0);

    // Tab close (and reload): the browser's own question; dismissed, the page stays.
    const dialogTypes: string[] = [];
    page.once("dialog", (d) => {
      dialogTypes.push(d.type());
      void d.dismiss();
    });
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => dialogTypes).toEqual(["beforeunload"]);
    expect(page.isClosed()).toBe(false);
    expect(await nameInput().inputValue()).toBe("Stub PSP renamed");

    // Back again, and leave: back on the list, the edit dropped.
    await page.goBack().catch(() => {});
    await expectText(leaveDialog(), "not saved");
    expect(page.url()).toContain(`/admin/integrations/${e2e.setup.integrationId}`);
    await leaveDialog().getByRole("button", { name: "Leave without saving" }).click();
    await page.waitForURL("**/admin/integrations");
    expect((await integration()).name).toBe("Stub PSP");

    // Saved changes leave freely.
    await page.getByRole("link", { name: "Stub PSP" }).click();
    await nameInput().click();
    await nameInput().fill("Stub PSP saved");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect.poll(async () => (await integration()).name).toBe("Stub PSP saved");
    await page.getByRole("link", { name: "Deposit methods" }).click();
    await page.waitForURL("**/admin/methods");
    expect(await leaveDialog().count()).toBe(0);
    await owner.patch(`/api/admin/integrations/${e2e.setup.integrationId}`, { name: "Stub PSP" });

    // The deposit method form asks the same way, also on its Cancel button.
    await page.goto(`${e2e.stack.baseUrl}/admin/methods/${e2e.setup.methodId}`);
    await expect.poll(() => nameInput().inputValue()).toBe("Card");
    await nameInput().click();
    await nameInput().fill("Card renamed");
    await page.getByRole("link", { name: "Cancel" }).click();
    await expectText(leaveDialog(), "not saved");
    await leaveDialog().getByRole("button", { name: "Leave without saving" }).click();
    await page.waitForURL("**/admin/methods");
  });

  it("asks before disabling an integration, naming its methods and pending orders, then says it is done", async () => {
    onFailureScreenshot("disable");
    const client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    for (const amount of ["20.00", "30.00", "40.00"]) {
      const res = await client.post("/api/portal/deposits", {
        methodId: e2e.setup.methodId,
        currency: "USD",
        amount,
        fields: { custom_1: "Jane Q Client" },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const second = await owner.post("/api/admin/deposit-methods", {
      name: "Card 2",
      integrationId: e2e.setup.integrationId,
      currencies: [{ code: "USD", min: "10.00", max: "100.00" }],
    });
    expect(second.statusCode, second.body).toBe(201);

    await page.goto(`${e2e.stack.baseUrl}/admin/integrations`);
    const row = page.getByTestId("integrations-table").locator("tbody tr", { hasText: "Stub PSP" });
    // The toggle says what state it is in, visibly and by name.
    const toggle = row.getByRole("switch", { name: "Stub PSP: Enabled", exact: true });
    expect(await toggle.isChecked()).toBe(true);
    await expectText(row.locator("label", { hasText: "Enabled" }), "Enabled");

    const ask = page.getByRole("dialog", { name: "Disable Stub PSP?" });
    await toggle.click({ force: true });
    await expectText(
      ask.getByTestId("disable-impact"),
      "This affects 2 deposit methods and 3 pending orders.",
    );
    await ask.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => ask.count()).toBe(0);
    expect((await integration()).enabled).toBe(true);
    expect(await toggle.isChecked()).toBe(true);

    await toggle.click({ force: true });
    await ask.getByRole("button", { name: "Disable", exact: true }).click();
    // The dialog closes (its exit transition can outlast the reload on a busy machine).
    await expect.poll(() => ask.count()).toBe(0);
    await page.getByText("Stub PSP is disabled.").waitFor();
    await expect.poll(async () => (await integration()).enabled).toBe(false);
    const off = row.getByRole("switch", { name: "Stub PSP: Disabled", exact: true });
    await expect.poll(() => off.isChecked()).toBe(false);
    // The switch is disabled while its change reloads the list, and a forced click would be lost.
    await expect.poll(() => off.isEnabled()).toBe(true);

    // Enabling only brings the methods back: no question, a toast.
    // The disable toast may cover the switch's place on the page.
    await off.dispatchEvent("click");
    await page.getByText("Stub PSP is enabled.").waitFor();
    await expect.poll(async () => (await integration()).enabled).toBe(true);
    expect(await ask.count()).toBe(0);
  });

  it("leads to the first field in error, and drops the summary once the fields are fixed", async () => {
    onFailureScreenshot("form-errors");
    await page.setViewportSize({ width: 1280, height: 600 });
    try {
      await page.goto(`${e2e.stack.baseUrl}/admin/integrations/new`);
      await nameInput().waitFor();
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      const inView = () =>
        nameInput().evaluate((el) => {
          const r = el.getBoundingClientRect();
          return r.top >= 0 && r.bottom <= window.innerHeight;
        });
      await expect.poll(inView).toBe(false);

      await page.getByRole("button", { name: "Create integration" }).click();
      await expectText(page.getByTestId("form-error"), "Some fields need fixing");
      await expect.poll(inView).toBe(true);
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-invalid")))
        .toBe("true");
      expect(await nameInput().evaluate((el) => el === document.activeElement)).toBe(true);

      // One fixed, one left: the summary stays; both fixed: it goes.
      await nameInput().fill("Second PSP");
      await expect.poll(() => page.getByTestId("form-error").count()).toBe(1);
      await page.getByRole("textbox", { name: "APP_URL" }).fill(e2e.stack.stub.url);
      await expect.poll(() => page.getByTestId("form-error").count()).toBe(0);
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
    // Not saved: leave without the question for the next test.
    page.once("dialog", (d) => void d.accept());
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations`);
  });

  it("shows a viewer's settings as read-only", async () => {
    onFailureScreenshot("read-only");
    const viewerCtx = await newContext(e2e.chrome.browser);
    try {
      const v = await viewerCtx.newPage();
      await adminLogin(v, e2e.stack.baseUrl, e2e.stack.viewer.email, e2e.stack.viewer.password);
      await v.goto(integrationUrl());
      await expectText(v.getByTestId("read-only-notice"), "can see these settings but not change them");
      const name = v.getByRole("textbox", { name: "Name", exact: true });
      await expect.poll(() => name.inputValue()).toBe("Stub PSP");
      expect(await name.getAttribute("readonly")).not.toBeNull();
      const look = (p: Page) =>
        p
          .getByRole("textbox", { name: "Name", exact: true })
          .evaluate((el) => `${getComputedStyle(el).borderStyle} ${getComputedStyle(el).backgroundColor}`);
      await page.goto(integrationUrl());
      await expect.poll(() => nameInput().inputValue()).toBe("Stub PSP");
      // The same input, editable for the owner, looks different for the viewer.
      expect(await look(v)).not.toBe(await look(page));
      expect(await look(v)).toContain("dashed");
      expect(await page.getByTestId("read-only-notice").count()).toBe(0);

      await v.goto(`${e2e.stack.baseUrl}/admin/integrations`);
      const toggle = v.getByRole("switch", { name: "Stub PSP: Enabled", exact: true });
      expect(await toggle.isDisabled()).toBe(true);
    } finally {
      await viewerCtx.close();
    }
  });

  it("shows a rotated token once, with a copy button", async () => {
    onFailureScreenshot("rotate");
    await page.goto(integrationUrl());
    await page.getByRole("button", { name: "Rotate token" }).click();
    await page
      .getByRole("dialog", { name: "Rotate the token?" })
      .getByRole("button", { name: "Rotate" })
      .click();

    const shown = page.getByRole("dialog", { name: "The new token" });
    await expectText(shown, "shown here once");
    const token = ((await shown.getByTestId("new-token").textContent()) ?? "").trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // It is the token now in force.
    const revealed = (await owner.post(`/api/admin/integrations/${e2e.setup.integrationId}/reveal`)).json();
    expect(revealed.token).toBe(token);

    await shown.getByRole("button", { name: "Copy the new token" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await shown.getByRole("button", { name: "I have copied it" }).click();
    await expect.poll(() => shown.count()).toBe(0);
    // Gone from the page: the credentials card masks it again until the eye icon is used.
    await expect.poll(async () => (await page.content()).includes(token)).toBe(false);
    await expectText(page.getByTestId("credentials-card"), "Token last rotated");
  });
});
