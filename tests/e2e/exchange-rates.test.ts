import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff, type Session } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText, portalLogin } from "./support/ui.js";

/**
 * A EUR payment credited to a USD wallet, in a real browser (docs/exchange-rates.md): the
 * portal previews both sides as the client types, the order locks the quote, a rate change
 * before the payment changes nothing, and the back office's deposit detail shows the quote.
 *
 * Figures: 100.00 EUR, fee 2.5 % = 2.50 EUR, 97.50 EUR converts at 1.0781 less 50 bps (the
 * pair's) + 50 bps (the method's) = 1.067319: 104.0636025, half up once → 104.06 USD. At the
 * source's rate it would be 105.11, so the markup kept 1.05 USD.
 */
describe.skipIf(!hasChromium)("a EUR payment credited to a USD wallet (Chromium)", () => {
  const e2e = useSeededStack("fx");
  let desk: BrowserContext;
  let portal: Page;
  let owner: Session;
  let client: Session;
  let sourceId: string;
  let sepaMethodId: string;

  beforeAll(async () => {
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const created = await owner.post("/api/admin/fx/sources", { kind: "manual", name: "House rates" });
    expect(created.statusCode, created.body).toBe(201);
    sourceId = created.json().source.id;
    const rate = await owner.put(`/api/admin/fx/sources/${sourceId}/rates/EUR/USD`, {
      rate: "1.0781",
      markupBps: 50,
    });
    expect(rate.statusCode, rate.body).toBe(200);
    const method = await owner.post("/api/admin/deposit-methods", {
      name: "SEPA to USD",
      integrationId: e2e.setup.integrationId,
      currencies: [
        {
          code: "EUR",
          min: "10.00",
          max: "5000.00",
          feePercent: "2.5",
          feeFixed: "0",
          feeMax: null,
          conversion: {
            accountCurrency: "USD",
            accountDecimals: 2,
            rules: [{ group: null, sourceId, markupBps: 50 }],
          },
        },
      ],
      fieldLabels: { custom_1: "IBAN" },
    });
    expect(method.statusCode, method.body).toBe(201);
    sepaMethodId = method.json().id;

    desk = await newContext(e2e.chrome.browser);
    portal = await desk.newPage();
    await portalLogin(
      portal,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
  });

  it("previews both sides, locks the quote, credits the USD wallet at it, and the admin sees the quote", async () => {
    onTestFailed(async () => {
      for (const [i, p] of desk.pages().entries()) {
        await p.screenshot({ path: screenshotPath(`failure-fx-${i}`), fullPage: true }).catch(() => {});
      }
    });
    await portal.goto(`${e2e.stack.baseUrl}/portal/deposit`);
    await portal.getByTestId("method-SEPA to USD").click();
    const form = portal.getByTestId("deposit-form");
    await form.waitFor();

    // The preview follows the typing: first 50.00 EUR, then 100.00 EUR.
    const amount = form.getByRole("textbox", { name: /Amount/ });
    await amount.fill("50");
    await expectText(portal.getByTestId("preview-credit"), "52.03 USD"); // 48.75 × 1.067319 = 52.0318…
    await amount.fill("100.00");
    await expectText(portal.getByTestId("preview-amount"), "100.00 EUR");
    await expectText(portal.getByTestId("preview-fee"), "2.50 EUR");
    await expectText(portal.getByTestId("preview-credit"), "104.06 USD");
    await expectText(portal.getByTestId("fx-rate"), "1.067319");
    await expectText(portal.getByTestId("fx-countdown"), /\d+:\d\d/);
    await portal.screenshot({ path: screenshotPath("portal-fx-preview"), fullPage: true });

    await form.getByRole("textbox", { name: "IBAN", exact: true }).fill("DE89370400440532013000");
    const [payTab] = await Promise.all([
      desk.waitForEvent("page"),
      portal.getByTestId("deposit-submit").click(),
    ]);
    await portal.waitForURL(/\/portal\/deposits\/[^/]+$/);
    const orderNo = decodeURIComponent(portal.url().split("/").pop()!);

    // API-1 carries the payment side.
    const api1 = e2e.stack.stub.api1Calls.at(-1)?.body;
    expect(api1).toMatchObject({ order_no: orderNo, amount: 100, currency: "EUR" });

    // The rate changes before the client pays: the order keeps its quote.
    const changed = await owner.put(`/api/admin/fx/sources/${sourceId}/rates/EUR/USD`, {
      rate: "1.2",
      markupBps: 0,
    });
    expect(changed.statusCode, changed.body).toBe(200);

    await payTab.waitForURL(`${e2e.stack.stub.url}/pay/page/${orderNo}`);
    await payTab.getByRole("button", { name: "Pay", exact: true }).click();
    await expectText(payTab.locator("#result"), "Payment complete");
    await expectText(portal.getByTestId("deposit-success"), "104.06");
    await expectText(portal.getByTestId("status-fx"), "100.00 EUR");
    await expectText(portal.getByTestId("status-fx"), "104.06 USD");

    // Exactly the quote's account amount reached the USD wallet, and no EUR wallet exists.
    const wallets = (await client.get("/api/portal/wallets")).json() as {
      items: { currency: string; balance: string }[];
    };
    expect(wallets.items.map((w) => [w.currency, w.balance])).toEqual([["USD", "104.06"]]);

    // The back office: the deposit detail's quote card.
    const list = (await owner.get(`/api/admin/deposits?orderNo=${orderNo}`)).json() as {
      items: { id: string; credit: string; creditCurrency: string }[];
    };
    expect(list.items[0]).toMatchObject({ credit: "104.06", creditCurrency: "USD" });
    const admin = await desk.newPage();
    await adminLogin(admin, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
    await admin.goto(`${e2e.stack.baseUrl}/admin/deposits/${list.items[0]!.id}`);
    const quote = admin.getByTestId("deposit-quote");
    const figure = (name: string) => quote.locator(`[data-figure="${name}"]`);
    await expectText(figure("pay"), "100.00 EUR");
    await expectText(figure("fee"), "2.50 EUR");
    await expectText(figure("source-rate"), "1.0781");
    await expectText(figure("rate"), "1.067319");
    await expectText(figure("account"), "104.06 USD");
    await expectText(admin.getByTestId("deposit-quote-source"), "House rates");
    await expectText(admin.getByTestId("deposit-credit"), "104.06 USD");
    await admin.screenshot({ path: screenshotPath("admin-fx-quote"), fullPage: true });

    // The tenant's FX report counts it: volume on both sides and the markup earned.
    const report = (await owner.get(`/api/admin/reports/fx?from=0&to=${Date.now() + 60_000}`)).json() as {
      items: unknown[];
    };
    expect(report.items).toEqual([
      expect.objectContaining({
        paymentCurrency: "EUR",
        accountCurrency: "USD",
        deposits: 1,
        paymentVolume: "100.00",
        accountVolume: "104.06",
        markupEarned: "1.05",
      }),
    ]);
  });
  it("the back office's rate pages: a manual table and its pairs, Test, an external API's key once, delete refused while used, the report", async () => {
    // The owner logged in to the back office in this browser in the test above.
    const admin = await desk.newPage();
    await admin.goto(`${e2e.stack.baseUrl}/admin/fx`);
    const sources = admin.getByTestId("fx-sources-table");
    await expectText(sources, "House rates");

    // A manual table, then a pair in it.
    await admin.getByRole("button", { name: "New manual table" }).click();
    const form = admin.getByTestId("fx-source-form");
    await form.getByRole("textbox", { name: "Name" }).fill("Desk rates");
    await form.getByRole("button", { name: "Create" }).click();
    await expectText(sources, "Desk rates");
    await admin.getByLabel("Actions of Desk rates").getByRole("link", { name: "Rates" }).click();
    await admin.getByRole("button", { name: "Add a pair" }).click();
    const pair = admin.getByTestId("fx-rate-form");
    await pair.getByRole("textbox", { name: "From" }).fill("GBP");
    await pair.getByRole("textbox", { name: "To", exact: true }).fill("USD");
    await pair.getByRole("textbox", { name: "Rate" }).fill("1.2650");
    await pair.getByRole("textbox", { name: "Markup" }).fill("0.25");
    await pair.getByRole("button", { name: "Save" }).click();
    await expectText(admin.getByTestId("fx-rates-table"), "1.265");
    await expectText(admin.getByTestId("fx-rates-table"), "0.25");

    // Test asks the source now.
    await admin.goto(`${e2e.stack.baseUrl}/admin/fx`);
    await admin.getByLabel("Actions of Desk rates").getByRole("button", { name: "Test" }).click();
    const test = admin.getByTestId("fx-test");
    await test.getByRole("textbox", { name: "From (payment currency)" }).fill("GBP");
    await test.getByRole("textbox", { name: "To (account currency)" }).fill("USD");
    await test.getByRole("button", { name: "Get the rate" }).click();
    await expectText(admin.getByTestId("fx-test-result"), "1 GBP = 1.265 USD");
    await admin.keyboard.press("Escape");

    // An external API: its key is shown once; the list shows its last four characters only.
    await admin.getByRole("button", { name: "New external API" }).click();
    await form.getByRole("textbox", { name: "Name" }).fill("Treasury");
    await form.getByRole("textbox", { name: "URL" }).fill("https://rates.example.com/fx");
    await form.getByRole("button", { name: "Create" }).click();
    const shown = admin.getByTestId("fx-source-key");
    await shown.waitFor();
    const key = ((await shown.textContent()) ?? "").trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await admin.getByRole("button", { name: "I have copied it" }).click();
    await expectText(sources, "Treasury");
    await expectText(sources, key.slice(-4));
    expect(await admin.locator("main").textContent()).not.toContain(key);

    // The source the method uses cannot be deleted.
    await admin.getByLabel("Actions of House rates").getByRole("button", { name: "Delete" }).click();
    await admin.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await expectText(admin.getByTestId("fx-delete-error"), "SEPA to USD");
    await expectText(sources, "House rates");

    // The report lists the first test's converted deposit.
    await admin.goto(`${e2e.stack.baseUrl}/admin/reports/fx`);
    const report = admin.getByTestId("fx-report-table");
    await expectText(report, "EUR");
    await expectText(report, "104.06");
    await expectText(report, "1.05");
    await admin.screenshot({ path: screenshotPath("admin-fx-report"), fullPage: true });
  });
  it("the method form's Credit to block shows the conversion and saves a changed markup", async () => {
    const admin = await desk.newPage();
    await admin.goto(`${e2e.stack.baseUrl}/admin/methods/${sepaMethodId}`);
    const creditTo = admin.getByTestId("currency-0").getByTestId("credit-to");
    await expect
      .poll(() => creditTo.getByRole("textbox", { name: "Account currency" }).inputValue())
      .toBe("USD");
    await expect
      .poll(() => creditTo.getByRole("combobox", { name: "Rate source" }).inputValue())
      .toContain("House rates");
    const markup = creditTo.getByRole("textbox", { name: "Markup" });
    await expect.poll(() => markup.inputValue()).toBe("0.5");
    await markup.fill("1.25");
    await admin.getByRole("button", { name: "Save", exact: true }).click();
    await expect
      .poll(async () => {
        const m = (await owner.get(`/api/admin/deposit-methods/${sepaMethodId}`)).json() as {
          currencies: { conversion: { rules: { markupBps: number }[] } | null }[];
        };
        return m.currencies[0]?.conversion?.rules[0]?.markupBps;
      })
      .toBe(125);
    await admin.reload();
    await expect.poll(() => markup.inputValue()).toBe("1.25");
  });
});
