import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText, hasHorizontalOverflow, portalLogin } from "./support/ui.js";

/**
 * What a person sees when things do not go the happy way, and on a phone: a blocked pop-up
 * leaves a link to the payment page, the status follows by polling when server-sent events are
 * unavailable, a declined payment is shown live with the client-safe message, the session ends
 * on its own at its expiry time, and every back-office and portal page fits a 390-px screen.
 */
describe.skipIf(!hasChromium)("portal live status and phones (Chromium)", () => {
  const e2e = useSeededStack("live");
  let client: Session;
  const pageErrors: string[] = [];
  const shots: Page[] = [];

  beforeAll(async () => {
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
  });

  /** Whether an element and everything in it show their whole text (no "…" cut). */
  const wholeText = (el: Element) =>
    [el, ...el.querySelectorAll("*")].every((e) => e.scrollWidth <= e.clientWidth + 1);

  const failureShots = (name: string) =>
    onTestFailed(async () => {
      for (const [i, p] of shots.entries()) {
        await p.screenshot({ path: screenshotPath(`failure-${name}-${i}`), fullPage: true }).catch(() => {});
      }
    });

  it("a blocked pop-up leaves a link; polling follows a declined payment to its client-safe message", async () => {
    failureShots("blocked-declined");
    const phone = await newContext(e2e.chrome.browser, { width: 390, height: 844, mobile: true });
    // A browser that blocks the tab and has no EventSource: the portal must still get there.
    // Each call records the event being handled at that moment: a tab opened inside the click
    // (before any await) is what popup blockers let through.
    await phone.addInitScript(() => {
      const opens: { during: string | null; url: unknown }[] = [];
      Object.assign(window, { __opens: opens });
      window.open = (url?: string | URL) => {
        opens.push({ during: window.event?.type ?? null, url: url ?? null });
        return null;
      };
      Reflect.deleteProperty(window, "EventSource");
    });
    const portal = await phone.newPage();
    shots.push(portal);
    portal.on("pageerror", (e) => pageErrors.push(e.message));
    await portalLogin(
      portal,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    await portal.getByRole("tab", { name: "Deposit" }).click();
    const form = portal.getByTestId("deposit-form");
    await form.getByRole("textbox", { name: /Amount/ }).fill("80");
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    await form.getByRole("button", { name: "Continue to payment" }).click();

    await portal.waitForURL(/\/portal\/deposits\/[^/]+$/);
    // Opened once, blank, synchronously in the submit handler; then the fallback link.
    expect(await portal.evaluate(() => (window as unknown as { __opens: unknown[] }).__opens)).toEqual([
      { during: "submit", url: "" },
    ]);
    const orderNo = decodeURIComponent(portal.url().split("/").pop()!);
    const waiting = portal.getByTestId("deposit-waiting");
    await expectText(waiting, "Your browser did not open the payment page.");
    await expectText(portal.getByTestId("live-mode"), "Checking every few seconds");
    const link = portal.getByTestId("payment-link");
    expect(await link.getAttribute("href")).toBe(`${e2e.stack.stub.url}/pay/page/${orderNo}`);
    expect(await link.getAttribute("rel")).toContain("noopener");
    expect(phone.pages()).toHaveLength(1);

    // The person follows the link (a plain link is never blocked) and the bank declines.
    const [payTab] = await Promise.all([phone.waitForEvent("page"), link.click()]);
    shots.push(payTab);
    await payTab.waitForURL(`${e2e.stack.stub.url}/pay/page/${orderNo}`);
    await payTab.getByRole("button", { name: "Decline" }).click();
    await expectText(payTab.locator("#result"), "Payment declined");

    // Live (polling), no reload: the failure, in the portal's words for the server's reason code.
    const failure = portal.getByTestId("deposit-failure");
    await expectText(failure, "Payment failed");
    const shown = (
      (await client.get(`/api/portal/deposits/${orderNo}`)).json() as { failure: { reason: string } | null }
    ).failure;
    expect(shown).toEqual({ reason: "payment_failed", message: null });
    await expectText(failure, "The payment did not go through.");
    expect(await portal.getByTestId("deposit-waiting").count()).toBe(0);
    // Nothing was received, and the page does not claim otherwise.
    await expectText(portal.getByTestId("status-credit"), "—");
    expect(await hasHorizontalOverflow(portal)).toBe(false);
    await portal.screenshot({ path: screenshotPath("portal-declined-390") });

    await portal.getByRole("tab", { name: "History" }).click();
    const row = portal.getByTestId("deposit-history").locator("a", { hasText: orderNo });
    await expectText(row, "Failed");
    expect(await row.textContent()).not.toContain("+");
    await phone.close();
  });

  it("ends the session on its own at its expiry time, with a notice", async () => {
    failureShots("session-timer");
    const desk = await newContext(e2e.chrome.browser);
    const admin = await desk.newPage();
    shots.push(admin);
    await admin.clock.install();
    await adminLogin(admin, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
    const me = await admin.evaluate(
      async () => (await (await fetch("/api/auth/me")).json()) as { expiresAt: number },
    );
    // A minute before the end nothing happens; at the end the app returns to login by itself.
    await admin.clock.fastForward(me.expiresAt - (await admin.evaluate(() => Date.now())) - 60_000);
    await admin.getByTestId("me-role").waitFor();
    expect(await admin.getByTestId("login-notice").count()).toBe(0);
    await admin.clock.fastForward(61_000);
    await expectText(admin.getByTestId("login-notice"), "session has expired");
    await desk.close();
  });

  it("every back-office and portal page fits a 390-px phone", async () => {
    failureShots("phone-pages");
    // A paid deposit, so pages have the longest status word (next to a credit in the history).
    const paid = await client.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount: "1234.56",
      fields: { custom_1: "Jane Q Client" },
    });
    const paidOrder = (paid.json() as { orderNo: string }).orderNo;
    expect((await fetch(`${e2e.stack.stub.url}/pay/page/${paidOrder}/pay`, { method: "POST" })).status).toBe(
      200,
    );
    expect(e2e.stack.stub.callbacks.at(-1)).toMatchObject({ orderNo: paidOrder, httpStatus: 204 });

    const phone = await newContext(e2e.chrome.browser, { width: 390, height: 844, mobile: true });
    const admin = await phone.newPage();
    shots.push(admin);
    admin.on("pageerror", (e) => pageErrors.push(e.message));
    await adminLogin(admin, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
    const owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    const deposits = (await owner.get("/api/admin/deposits")).json() as { items: { id: string }[] };
    const pages = [
      "/integrations",
      `/integrations/${e2e.setup.integrationId}`,
      "/methods",
      `/methods/${e2e.setup.methodId}`,
      "/deposits",
      `/deposits/${deposits.items[0]!.id}`,
      "/review",
      "/clients",
      "/audit",
      "/users",
      "/withdrawal-methods",
      "/withdrawal-methods/new",
      "/withdrawals",
    ];
    for (const path of pages) {
      await admin.goto(`${e2e.stack.baseUrl}/admin${path}`);
      await admin.locator("main h2").first().waitFor();
      await admin.waitForLoadState("networkidle");
      expect([path, await hasHorizontalOverflow(admin)]).toEqual([path, false]);
      // Status badges are shown whole, never cut to "SUCCEED…".
      for (const badge of await admin.locator("main [data-status]:visible").all()) {
        expect([path, await badge.evaluate(wholeText)]).toEqual([path, true]);
      }
    }
    // Forms keep their save bar on screen.
    await admin.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    const save = admin.getByRole("button", { name: "Save", exact: true });
    const box = (await save.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    // The menu is behind the burger.
    const offScreen = () =>
      admin.getByRole("link", { name: "Clients" }).evaluate((el) => el.getBoundingClientRect().right <= 0);
    expect(await offScreen()).toBe(true);
    await admin.getByRole("button", { name: "Menu" }).click();
    await expect.poll(offScreen).toBe(false);
    await admin.getByRole("link", { name: "Clients" }).click();
    await admin.waitForURL(/\/admin\/clients$/);
    await admin.screenshot({ path: screenshotPath("admin-clients-390") });

    const portal = await phone.newPage();
    shots.push(portal);
    await portalLogin(
      portal,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const order = ((await client.get("/api/portal/deposits")).json() as { items: { orderNo: string }[] })
      .items[0]!.orderNo;
    for (const path of ["/", "/deposit", "/history", `/deposits/${order}`, "/withdraw"]) {
      await portal.goto(`${e2e.stack.baseUrl}/portal${path}`);
      await portal.locator("main h2").first().waitFor();
      await portal.waitForLoadState("networkidle");
      expect([path, await hasHorizontalOverflow(portal)]).toEqual([path, false]);
      for (const badge of await portal.locator("main [data-status]:visible").all()) {
        expect([path, await badge.evaluate(wholeText)]).toEqual([path, true]);
      }
    }
    await phone.close();
    expect(pageErrors).toEqual([]);
  });
});
