import { readFile } from "node:fs/promises";
import { parse } from "csv-parse/sync";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * The back office's deposit list sorted on the server (the whole list, not the page shown) and
 * exported as CSV with its current filter and order.
 */
describe.skipIf(!hasChromium)("admin lists (Chromium)", () => {
  const e2e = useSeededStack("lists");
  let ctx: BrowserContext;
  let page: Page;
  let owner: Session;
  /** Order numbers by amount; the largest deposit is the oldest, so newest-first shows it on page 2. */
  const made: { orderNo: string; amount: string }[] = [];

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    const client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const amounts = [
      "4999.00",
      ...Array.from({ length: 29 }, (_, i) => `${20 + ((i * 37) % 900)}.${i % 10}5`),
    ];
    for (const amount of amounts) {
      const res = await client.post("/api/portal/deposits", {
        methodId: e2e.setup.methodId,
        currency: "USD",
        amount,
        fields: { custom_1: "Jane Q Client" },
      });
      if (res.statusCode !== 201) throw new Error(`deposit: ${res.statusCode} ${res.body}`);
      made.push({ orderNo: (res.json() as { orderNo: string }).orderNo, amount });
    }
    ctx = await newContext(e2e.chrome.browser);
    page = await ctx.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });

  it("sorts the whole deposit list on the server and downloads the sorted CSV", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath("failure-admin-lists"), fullPage: true }).catch(() => {});
    });
    const total = (await owner.get("/api/admin/deposits?limit=1")).json().total as number;
    expect(total).toBe(30);
    const largest = made[0] as { orderNo: string };
    const smallest = [...made].sort((a, b) => Number(a.amount) - Number(b.amount))[0] as { orderNo: string };

    await page.goto(`${e2e.stack.baseUrl}/admin/deposits`);
    const table = page.getByTestId("deposits-table");
    const rows = table.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    // Newest first: the oldest (and largest) deposit is on page 2, not on the page shown.
    await expectText(rows.first(), made.at(-1)?.orderNo as string);
    expect(await table.getByText(largest.orderNo).count()).toBe(0);

    const byAmount = table.getByRole("button", { name: "Sort by Amount" });
    await byAmount.click();
    await page.waitForURL(/[?&]sort=amount%3Aasc\b/);
    await expectText(rows.first(), smallest.orderNo);
    await byAmount.click();
    await page.waitForURL(/[?&]sort=amount%3Adesc\b/);
    // Page 1 of the descending sort starts with the largest of all 30, fetched from page 2's rows.
    await expectText(rows.first(), largest.orderNo);
    await expectText(rows.first(), "4,999.00 USD");
    expect(await table.locator("th[aria-sort=descending]").textContent()).toContain("Amount");
    await expect.poll(() => rows.count()).toBe(25);

    // Page 2 continues the same order.
    await table.getByRole("button", { name: "2", exact: true }).click();
    await page.waitForURL(/[?&]page=2\b/);
    await expect.poll(() => rows.count()).toBe(5);
    await expectText(rows.last(), smallest.orderNo);

    // The export has every row of the filter, in the list's order, not only the page shown.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^deposits-\d{8}-\d{6}\.csv$/);
    const path = await download.path();
    const csv = parse(await readFile(path, "utf8"), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(30);
    expect(csv[0]?.order_no).toBe(largest.orderNo);
    expect(csv[0]?.amount).toBe("4999.00");
    expect(csv.at(-1)?.order_no).toBe(smallest.orderNo);
    const amounts = csv.map((r) => Number(r.amount));
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    expect(csv.every((r) => r.currency === "USD" && /^\d{4}-\d\d-\d\dT.*Z$/.test(r.created_at ?? ""))).toBe(
      true,
    );
  });
});
