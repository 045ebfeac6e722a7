import { type FlatParams, sign } from "@psphub/protocol";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, choose, expectText } from "./support/ui.js";

/**
 * The back office's day-to-day screens in a real browser: manual approve and reject with a
 * comment, the callback log with verdicts and error types, the review queue and its
 * resolution, token rotation with its grace period, method reordering and enable/disable.
 */
describe.skipIf(!hasChromium)("back office (Chromium)", () => {
  const e2e = useSeededStack("ops");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;
  let client: Session;
  let secrets: { merchantId: string; token: string };

  /** A pending deposit made through the portal API (API-1 answered by the stub). */
  const newDeposit = async (amount: string) => {
    const res = await client.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount,
      fields: { custom_1: "Jane Q Client" },
    });
    if (res.statusCode !== 201) throw new Error(`deposit: ${res.statusCode} ${res.body}`);
    const { orderNo } = res.json() as { orderNo: string };
    const list = (await owner.get(`/api/admin/deposits?orderNo=${orderNo}`)).json() as {
      items: { id: string }[];
    };
    return { orderNo, id: list.items[0]!.id };
  };

  /** An API-2 callback as a tenant backend sends it. */
  const callback = async (params: FlatParams, token = secrets.token) =>
    fetch(`${e2e.stack.baseUrl}/api/psp/pay/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": token },
      body: JSON.stringify({ ...params, sign: sign(params, token) }),
    });

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    secrets = (await owner.post(`/api/admin/integrations/${e2e.setup.integrationId}/reveal`)).json();
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  const onFailureScreenshot = (name: string) =>
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath(`failure-${name}`), fullPage: true }).catch(() => {});
    });

  it("approves and rejects open deposits by hand, with a comment", async () => {
    onFailureScreenshot("manual");
    const a = await newDeposit("50");
    await page.goto(`${e2e.stack.baseUrl}/admin/deposits/${a.id}`);
    await page.getByRole("button", { name: "Approve" }).click();
    const dialog = page.getByRole("dialog");
    // The comment is required, inline.
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expectText(dialog, "Required");
    await dialog
      .getByRole("textbox", { name: "Comment" })
      .fill("Paid by bank transfer, checked the statement");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expectText(page.getByTestId("ledger-entry"), "48.45 USD");
    await page.locator('[data-kind="manual"]').first().waitFor();
    await expectText(page.getByTestId("timeline"), "checked the statement");
    await expect.poll(() => page.getByRole("button", { name: "Approve" }).count()).toBe(0);

    const b = await newDeposit("20");
    await page.goto(`${e2e.stack.baseUrl}/admin/deposits/${b.id}`);
    await page.getByRole("button", { name: "Reject" }).click();
    await page.getByRole("dialog").getByRole("textbox", { name: "Comment" }).fill("Client asked to cancel");
    await page.getByRole("dialog").getByRole("button", { name: "Reject" }).click();
    await expectText(page.locator("h2"), "Failed");

    // The list filters by status.
    await page.goto(`${e2e.stack.baseUrl}/admin/deposits?status=failed`);
    await expectText(page.getByTestId("deposits-table"), b.orderNo);
    expect(await page.getByTestId("deposits-table").getByText(a.orderNo).count()).toBe(0);
  });

  it("pages through deposits 25 at a time and filters them by order number and date", async () => {
    onFailureScreenshot("deposit-list");
    const made: string[] = [];
    for (let i = 0; i < 26; i++) made.push((await newDeposit(String(10 + i))).orderNo);
    const total = ((await owner.get("/api/admin/deposits?limit=1")).json() as { total: number }).total;
    expect(total).toBeGreaterThan(25);

    await page.goto(`${e2e.stack.baseUrl}/admin/deposits`);
    const table = page.getByTestId("deposits-table");
    const rows = table.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    // Newest first: the last one made heads page 1.
    await expectText(rows.first(), made.at(-1)!);
    await table.getByRole("button", { name: "2", exact: true }).click();
    await page.waitForURL(/[?&]page=2\b/);
    await expect.poll(() => rows.count()).toBe(Math.min(25, total - 25));
    await expectText(table, made[0]!);

    await page.getByRole("textbox", { name: "Order no.", exact: true }).fill(made[3]!);
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringContaining(made[3]!)]);
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect.poll(() => rows.count()).toBe(25);
    await page.getByLabel("To", { exact: true }).fill("2020-01-01");
    await expectText(table, "No deposit matches.");
  });

  it("shows each callback's verdict and error type in the integration's callback log", async () => {
    onFailureScreenshot("callback-log");
    const d = await newDeposit("30");
    const base = {
      merchant_id: secrets.merchantId,
      order_no: d.orderNo,
      amount: 30,
      currency: "USD",
      time: Date.now(),
      status: 1,
    };
    expect((await callback(base, "wrong-token")).status).toBe(400);
    // The right token, a sign over other values: its log row shows the StringA the CRM computed.
    const badSign = await fetch(`${e2e.stack.baseUrl}/api/psp/pay/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": secrets.token },
      body: JSON.stringify({ ...base, sign: sign({ ...base, amount: 29 }, secrets.token) }),
    });
    expect(badSign.status).toBe(400);
    expect(((await badSign.json()) as { detail: string }).detail).toMatch(/^sign does not verify/);
    expect((await callback({ ...base, amount: 31 })).status).toBe(400);
    expect((await callback(base)).status).toBe(204);
    expect((await callback(base)).status).toBe(204); // a repeat: duplicate, no second credit

    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    await page.getByRole("tab", { name: "Callback log" }).click();
    const log = page.getByTestId("callback-log");
    await expectText(log, "psp_token_invalid");
    await expectText(log, "payment_amount_not_allowed");
    await expectText(log, "Accepted");
    await expectText(log, "Duplicate");
    // Every refused row says why.
    await expectText(log, "header crm-pay-token is not this integration's token");
    await expectText(log, "differs from the order's 30.00");
    // Filter by verdict; open one to see why, and the body as received.
    await choose(page, "Verdict", "Rejected");
    await expect
      .poll(() => log.locator("tbody tr").allTextContents())
      .toEqual([expect.stringContaining("sign does not verify"), expect.stringContaining("crm-pay-token")]);
    await log.locator("tbody tr").first().click();
    const dialog = page.getByRole("dialog");
    await expectText(dialog, d.orderNo);
    await expectText(dialog.getByTestId("callback-refusal"), "Check that failed: sign");
    await expectText(
      dialog.getByTestId("callback-string-a"),
      `amount=30&currency=USD&merchant_id=${secrets.merchantId}`,
    );
    await page.screenshot({ path: screenshotPath("admin-callback-refusal") });
    await page.keyboard.press("Escape");
    await choose(page, "Verdict", "Review");
    await log.locator("tbody tr").first().click();
    await expectText(
      page.getByRole("dialog").getByTestId("callback-amounts"),
      "Ordered: 30.00 · Reported paid: 31",
    );
    await page.keyboard.press("Escape");
    await page.screenshot({ path: screenshotPath("admin-callback-log") });
  });

  it("lists a conflicting callback in the review queue and resolves it once", async () => {
    onFailureScreenshot("review");
    const d = await newDeposit("40");
    // Rejected by hand first; then the PSP reports success: a conflict for a person.
    expect(
      (await owner.post(`/api/admin/deposits/${d.id}/reject`, { comment: "no payment seen" })).statusCode,
    ).toBe(200);
    const res = await callback({
      merchant_id: secrets.merchantId,
      order_no: d.orderNo,
      transaction_id: "late-1",
      amount: 40,
      currency: "USD",
      time: Date.now(),
      status: 1,
    });
    expect(res.status).toBe(400);

    await page.goto(`${e2e.stack.baseUrl}/admin/review`);
    const table = page.getByTestId("review-table");
    await expectText(table, d.orderNo);
    await expectText(table, "Contradicts a final status");
    const row = table.locator("tbody tr", { hasText: d.orderNo });
    await row.getByRole("button", { name: "Credit" }).click();
    await page
      .getByRole("dialog")
      .getByRole("textbox", { name: "Comment" })
      .fill("PSP statement shows the payment");
    await page.getByRole("dialog").getByRole("button", { name: "Credit" }).click();
    await expect.poll(() => row.getByRole("button", { name: "Credit" }).count()).toBe(0);
    await page.locator("label", { hasText: /^Resolved$/ }).click();
    await expectText(table, "PSP statement shows the payment");

    const detail = (await owner.get(`/api/admin/deposits/${d.id}`)).json() as { ledgerEntry: unknown };
    expect(detail.ledgerEntry).not.toBeNull();
  });

  it("rotates the token after confirmation and shows the grace period", async () => {
    onFailureScreenshot("rotate");
    await page.goto(`${e2e.stack.baseUrl}/admin/integrations/${e2e.setup.integrationId}`);
    await expectText(page.getByTestId("credentials-card"), "never rotated");
    await page.getByRole("button", { name: "Rotate token" }).click();
    const dialog = page.getByRole("dialog");
    await expectText(dialog, "grace period");
    await dialog.getByRole("textbox", { name: "Grace period (hours)" }).fill("2");
    await dialog.getByRole("button", { name: "Rotate" }).click();
    await page.getByRole("button", { name: "I have copied it" }).click();
    await expectText(page.getByTestId("grace-notice"), "still accepted for callbacks until");
    await page.getByTestId("reveal-toggle").click();
    await expect.poll(() => page.getByTestId("secret-token").textContent()).not.toBe(secrets.token);
  });

  it("reorders deposit methods with the arrows and switches one off", async () => {
    onFailureScreenshot("methods");
    const second = await owner.post("/api/admin/deposit-methods", {
      name: "Bank transfer",
      integrationId: e2e.setup.integrationId,
      currencies: [{ code: "EUR", min: "50.00", max: "20000.00" }],
    });
    expect(second.statusCode).toBe(201);
    await page.goto(`${e2e.stack.baseUrl}/admin/methods`);
    const table = page.getByTestId("methods-table");
    const names = () => table.locator("tbody tr a").allTextContents();
    await expect.poll(names).toEqual(["Card", "Bank transfer"]);
    await page.getByRole("button", { name: "Move Bank transfer up" }).click();
    await expect.poll(names).toEqual(["Bank transfer", "Card"]);
    await page.getByRole("switch", { name: "Enable Card" }).click({ force: true });
    await expectText(table.locator("tbody tr").nth(1), "Disabled");

    // The portal offers the methods in that order, without the disabled one.
    const methods = (await client.get("/api/portal/deposit-methods")).json() as { items: { name: string }[] };
    expect(methods.items.map((m) => m.name)).toEqual(["Bank transfer"]);
  });
});
