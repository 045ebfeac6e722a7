import type { BrowserContext, Locator, Page } from "playwright-core";
import { beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { STUB_FAILURE_MESSAGE, STUB_UNAUTHORIZED_MESSAGE } from "./support/stub-psp.js";
import { expectText, portalLogin } from "./support/ui.js";

/**
 * The portal tells the client the truth (issue 16, items 1–5): a payment held for review is
 * shown as being checked (after a cancel, or of another amount) and cannot be cancelled; a
 * tenant backend's own error text never reaches the client, a proper refusal's message does;
 * a failed payment says nothing was charged and offers "Try again" and another method; amounts
 * are read the way the client writes them; cancelling asks first.
 */
describe.skipIf(!hasChromium)("the portal tells the client the truth (Chromium)", () => {
  const e2e = useSeededStack("truth");
  let desk: BrowserContext;
  let portal: Page;
  let owner: Session;

  beforeAll(async () => {
    desk = await newContext(e2e.chrome.browser);
    portal = await desk.newPage();
    await portalLogin(
      portal,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  beforeEach(() => {
    e2e.stack.stub.mode = "ok";
    onTestFailed(async () => {
      for (const [i, p] of desk.pages().entries()) {
        await p.screenshot({ path: screenshotPath(`failure-truth-${i}`), fullPage: true }).catch(() => {});
      }
    });
  });

  const openForm = async (): Promise<Locator> => {
    await portal.goto(`${e2e.stack.baseUrl}/portal/deposit`);
    const form = portal.getByTestId("deposit-form");
    await form.waitFor();
    return form;
  };

  /** Submits the form; returns the payment tab the portal opened and the new order's number. */
  const submitAndPay = async (form: Locator): Promise<{ payTab: Page; orderNo: string }> => {
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    const [payTab] = await Promise.all([
      desk.waitForEvent("page"),
      form.getByRole("button", { name: "Continue to payment" }).click(),
    ]);
    await portal.waitForURL(/\/portal\/deposits\/[^/]+$/);
    const orderNo = decodeURIComponent(portal.url().split("/").pop()!);
    await payTab.waitForURL(`${e2e.stack.stub.url}/pay/page/${orderNo}`);
    return { payTab, orderNo };
  };

  const lastApi1Amount = () => e2e.stack.stub.api1Calls.at(-1)?.body.amount;

  const openReviewItem = async (orderNo: string): Promise<string> => {
    const items = (await owner.get("/api/admin/review?status=open")).json().items as {
      id: string;
      deposit: { orderNo: string };
    }[];
    const item = items.find((i) => i.deposit.orderNo === orderNo);
    expect(item).toBeDefined();
    return item!.id;
  };

  it("cancel, then pay: the client sees the payment being checked (no cancel), then the credit", async () => {
    // "1,000.00" is how the portal itself writes the limits: it is read, and sent as plain text.
    const form = await openForm();
    await form.getByRole("textbox", { name: /Amount/ }).fill("1,000.00");
    await expectText(portal.getByTestId("preview-amount"), "1,000.00 USD");
    const { payTab, orderNo } = await submitAndPay(form);
    expect(lastApi1Amount()).toBe(1000);

    // Cancelling asks first; "Keep it" keeps it.
    const waiting = portal.getByTestId("deposit-waiting");
    await waiting.getByRole("button", { name: "Cancel this deposit" }).click();
    const dialog = portal.getByRole("dialog", { name: "Cancel this deposit?" });
    await expectText(dialog, "Cancel only if you have not paid");
    await dialog.getByRole("button", { name: "Keep it" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await owner.get(`/api/admin/deposits?orderNo=${orderNo}`)).json().items[0].status).toBe(
      "pending",
    );
    await waiting.getByRole("button", { name: "Cancel this deposit" }).click();
    await dialog.getByRole("button", { name: "Cancel the deposit" }).click();
    await expectText(portal.getByTestId("deposit-failure"), "Deposit cancelled");

    // The client pays anyway, in the tab still open: the CRM holds the payment for review.
    await payTab.getByRole("button", { name: "Pay", exact: true }).click();
    await expectText(payTab.locator("#result"), "Callback refused");

    // Without a reload: being checked, in the client's words, no cancel, no "cancelled".
    const checking = portal.getByTestId("deposit-checking");
    await expectText(checking, "We received a payment for this deposit and are checking it");
    await expectText(checking, "please do not pay again");
    await expectText(portal.locator("[data-status]").first(), "Being checked");
    expect(await portal.getByTestId("deposit-failure").count()).toBe(0);
    expect(await portal.getByRole("button", { name: "Cancel this deposit" }).count()).toBe(0);
    const text = (await portal.locator("main").textContent()) ?? "";
    expect(text).not.toMatch(/late_success|expiry|review item|payment_status/i);
    await portal.screenshot({ path: screenshotPath("portal-held-for-review"), fullPage: true });

    // An admin credits it: the same page shows the success, still without a reload.
    const resolved = await owner.post(`/api/admin/review/${await openReviewItem(orderNo)}/resolve`, {
      action: "credit",
      comment: "paid after cancelling, confirmed with the PSP",
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await expectText(portal.getByTestId("deposit-success"), "Payment received");
    expect(await portal.getByTestId("deposit-checking").count()).toBe(0);
    await payTab.close();
  });

  it("another amount paid: being checked, no payment link and no cancel; '25,50' is read as 25.50", async () => {
    const form = await openForm();
    await form.getByRole("textbox", { name: /Amount/ }).fill("25,50");
    await expectText(portal.getByTestId("preview-amount"), "25.50 USD");
    const { payTab } = await submitAndPay(form);
    expect(lastApi1Amount()).toBe(25.5);
    await payTab.getByRole("button", { name: "Pay another amount" }).click();
    await expectText(payTab.locator("#result"), "Callback refused");

    await expectText(portal.getByTestId("deposit-checking"), "are checking it");
    expect(await portal.getByTestId("deposit-waiting").count()).toBe(0);
    expect(await portal.getByTestId("payment-link").count()).toBe(0);
    expect(await portal.getByRole("button", { name: "Cancel this deposit" }).count()).toBe(0);
    await payTab.close();
  });

  it("an amount that is not one is refused inline, with an example in the client's own format", async () => {
    const form = await openForm();
    const amount = form.getByRole("textbox", { name: /Amount/ });
    const calls = e2e.stack.stub.api1Calls.length;
    for (const typed of ["1e2", "-50", "12.3.4"]) {
      await amount.fill(typed);
      await form.getByRole("button", { name: "Continue to payment" }).click();
      await expectText(form, "Enter an amount such as 1,000.50");
    }
    expect(e2e.stack.stub.api1Calls.length).toBe(calls);
  });

  it("a backend's own error text never reaches the client; a proper refusal's message does", async () => {
    e2e.stack.stub.mode = "unauthorized";
    let form = await openForm();
    await form.getByRole("textbox", { name: /Amount/ }).fill("100");
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    await form.getByRole("button", { name: "Continue to payment" }).click();
    const error = portal.getByTestId("deposit-error");
    await expectText(error, "The payment provider is not available right now.");
    expect(await error.textContent()).not.toContain(STUB_UNAUTHORIZED_MESSAGE);
    // The admin still reads everything.
    const failed = (await owner.get("/api/admin/deposits?status=failed&limit=1")).json().items[0];
    expect(failed.failureReason).toBe(`http_status_401: ${STUB_UNAUTHORIZED_MESSAGE}`);

    e2e.stack.stub.mode = "fail";
    form = await openForm();
    await form.getByRole("textbox", { name: /Amount/ }).fill("100");
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    await form.getByRole("button", { name: "Continue to payment" }).click();
    await expectText(error, "The payment provider declined to start this payment.");
    await expectText(portal.getByTestId("provider-message"), STUB_FAILURE_MESSAGE);
  });

  it("a failed payment says nothing was charged, shows no fee, and offers Try again (prefilled) or another method", async () => {
    const form = await openForm();
    await form.getByRole("textbox", { name: /Amount/ }).fill("80");
    const { payTab, orderNo } = await submitAndPay(form);
    await payTab.getByRole("button", { name: "Decline" }).click();
    await expectText(payTab.locator("#result"), "Payment declined");

    const failure = portal.getByTestId("deposit-failure");
    await expectText(failure, "Payment failed");
    await expectText(failure, "We have not charged you anything for this deposit, and no fee applies.");
    await expectText(portal.getByTestId("status-fee"), "—");
    await expectText(portal.getByTestId("status-credit"), "—");
    await portal.screenshot({ path: screenshotPath("portal-failed-try-again"), fullPage: true });

    await failure.getByRole("button", { name: "Try again" }).click();
    const again = portal.getByTestId("deposit-form");
    await again.waitFor();
    expect(await again.getByRole("textbox", { name: /Amount/ }).inputValue()).toBe("80.00");
    await expectText(portal.getByTestId("preview-amount"), "80.00 USD");
    const retried = await submitAndPay(again);
    expect(retried.orderNo).not.toBe(orderNo);
    expect(lastApi1Amount()).toBe(80);
    await retried.payTab.getByRole("button", { name: "Decline" }).click();
    await expectText(portal.getByTestId("deposit-failure"), "Payment failed");

    await portal
      .getByTestId("deposit-failure")
      .getByRole("button", { name: "Choose another method" })
      .click();
    await portal.waitForURL(/\/portal\/deposit$/);
    await portal.getByTestId("method-Card").waitFor();
    await payTab.close();
    await retried.payTab.close();
  });
});
