import { type FlatParams, sign } from "@psphub/protocol";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * Credit figures in a real browser: wherever an admin decides a credit (resolving a
 * review item, approving by hand) the ordered amount, the paid amount, the fee and the credit
 * are shown; the fee of a paid amount follows the fee rule the order was created with; a second
 * success with another amount on a credited order waits in the review queue as a conflict.
 */
describe.skipIf(!hasChromium)("credit figures (Chromium)", () => {
  const e2e = useSeededStack("figures");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;
  let client: Session;
  let secrets: { merchantId: string; token: string };

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

  const callback = async (orderNo: string, amount: number, status = 1) => {
    const params: FlatParams = {
      merchant_id: secrets.merchantId,
      order_no: orderNo,
      transaction_id: `tx-${orderNo}-${amount}`,
      amount,
      currency: "USD",
      time: Date.now(),
      status,
    };
    return fetch(`${e2e.stack.baseUrl}/api/psp/pay/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": secrets.token },
      body: JSON.stringify({ ...params, sign: sign(params, secrets.token) }),
    });
  };

  /** The figures table of the open dialog, as label → value. */
  const figures = async () => {
    const rows = page.getByRole("dialog").getByTestId("credit-figures").locator("tr");
    await rows.first().waitFor();
    const out: Record<string, string> = {};
    for (const row of await rows.all()) {
      const key = (await row.getAttribute("data-figure")) ?? "";
      out[key] = ((await row.locator("td").nth(1).textContent()) ?? "").trim();
    }
    return out;
  };

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    secrets = (await owner.post(`/api/admin/integrations/${e2e.setup.integrationId}/reveal`)).json();
    const policy = await owner.patch(`/api/admin/integrations/${e2e.setup.integrationId}`, {
      amountPolicy: "review",
    });
    expect(policy.statusCode, policy.body).toBe(200);
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  const onFailureScreenshot = (name: string) =>
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath(`failure-${name}`), fullPage: true }).catch(() => {});
    });

  it("shows ordered and paid amounts, the fee by the order's rule and the credit when resolving a review item", async () => {
    onFailureScreenshot("figures-review");
    const d = await newDeposit("100");
    expect((await callback(d.orderNo, 150)).status).toBe(204);
    // The method's fee changes after the order was created: the order keeps its own rule.
    const raised = await owner.patch(`/api/admin/deposit-methods/${e2e.setup.methodId}`, {
      currencies: [{ code: "USD", min: "10.00", max: "5000.00", feePercent: "10", feeFixed: "1.00" }],
    });
    expect(raised.statusCode, raised.body).toBe(200);

    await page.goto(`${e2e.stack.baseUrl}/admin/review`);
    const table = page.getByTestId("review-table");
    const row = table.locator("tbody tr", { hasText: d.orderNo });
    await expectText(row, "Paid amount differs");
    await expectText(row.getByTestId("review-credit"), "145.95 USD");
    await expectText(row.getByTestId("review-credit"), "fee 4.05 USD");
    await row.getByRole("button", { name: "Credit" }).click();
    expect(await figures()).toEqual({
      ordered: "100.00 USD",
      "ordered-fee": "2.80 USD",
      paid: "150.00 USD",
      fee: "4.05 USD",
      credit: "145.95 USD",
    });
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Comment" }).fill("Client paid more, PSP confirmed");
    await dialog.getByRole("button", { name: "Credit" }).click();
    await expect.poll(() => row.getByRole("button", { name: "Credit" }).count()).toBe(0);
    const detail = (await owner.get(`/api/admin/deposits/${d.id}`)).json() as {
      credit: string;
      paidAmount: string;
    };
    expect(detail).toMatchObject({ credit: "145.95", paidAmount: "150.00" });

    // A second success with another amount on the credited order: a conflict, kept for review.
    const second = await callback(d.orderNo, 90);
    expect(second.status).toBe(400);
    expect(await second.json()).toMatchObject({ type: "payment_status_not_pending" });
    await page.reload();
    const conflict = table.locator("tbody tr", { hasText: "Contradicts a final status or its paid amount" });
    await expectText(conflict, d.orderNo);
    await expectText(conflict, "90.00 USD");
  });

  it("shows the ordered and paid amounts, fee and credit before a manual approval", async () => {
    onFailureScreenshot("figures-approve");
    const d = await newDeposit("100");
    // Held for review: the PSP reported 80.00 paid.
    expect((await callback(d.orderNo, 80)).status).toBe(204);
    await page.goto(`${e2e.stack.baseUrl}/admin/deposits/${d.id}`);
    await page.getByRole("button", { name: "Approve" }).click();
    // The method's fee is now 10 % + 1.00 (previous test): this order was created under it.
    expect(await figures()).toEqual({
      ordered: "100.00 USD",
      "ordered-fee": "11.00 USD",
      paid: "80.00 USD",
      fee: "11.00 USD",
      credit: "89.00 USD",
    });
    await expectText(page.getByTestId("approve-paid-differs"), "The PSP reported 80.00 USD paid");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
  });
});
