import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { loginClient, loginStaff, type Session, TEST_PASSWORD } from "../../apps/server/src/test/test-app.js";
import { ar } from "../../apps/web/src/i18n/ar.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, dismissToasts, expectText, hasHorizontalOverflow, portalLogin } from "./support/ui.js";

/**
 * Withdrawals in a real browser (docs/withdrawals.md): the owner sets up a manual method in the
 * editor (1 level below 100.00, 2 from 100.00); a client with a funded wallet asks for 150.00 in
 * the portal and sees it held; two different admins approve the two levels (the first may not
 * decide the second: the button says why); the owner records the payout with its reference; the
 * client sees the debit. Then a rejection the client reads with its reason, the hold released,
 * and a cancel by the client; and the page in Arabic on a phone, right to left.
 */
describe.skipIf(!hasChromium)("withdrawals (Chromium)", () => {
  const e2e = useSeededStack("payouts");
  const ann = { email: "ann@payouts.test", name: "Ann Admin" };
  const bob = { email: "bob@payouts.test", name: "Bob Admin" };
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  let client: Session;
  let owner: Session;
  let methodId = "";

  const open = async (width = 1280): Promise<Page> => {
    const ctx = await newContext(e2e.chrome.browser, { width });
    contexts.push(ctx);
    const page = await ctx.newPage();
    pages.push(page);
    return page;
  };
  const staffPage = async (email: string) => {
    const page = await open();
    await adminLogin(page, e2e.stack.baseUrl, email, TEST_PASSWORD);
    return page;
  };
  const clientPage = async () => {
    const page = await open(1024);
    await portalLogin(
      page,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    return page;
  };
  const shotsOnFailure = (name: string) =>
    onTestFailed(async () => {
      for (const [i, p] of pages.entries())
        await p.screenshot({ path: screenshotPath(`failure-${name}-${i}`), fullPage: true }).catch(() => {});
    });
  /** The client's USD wallet as the API answers it. */
  const wallet = async () => {
    const w = (await client.get("/api/portal/wallets")).json() as {
      items: { currency: string; balance: string; held: string; available: string }[];
    };
    return w.items.find((x) => x.currency === "USD");
  };

  beforeAll(async () => {
    for (const p of [ann, bob])
      await createUser(e2e.stack.app.ctx, e2e.stack.tenant.id, {
        ...p,
        password: TEST_PASSWORD,
        role: "admin",
      });
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    // Funded the way a client funds a wallet: a deposit of 500.00, paid on the stub's page
    // (fee 2.5 % + 0.30, at most 20.00: 12.80), so the wallet holds 487.20 USD.
    const res = await client.post("/api/portal/deposits", {
      methodId: e2e.setup.methodId,
      currency: "USD",
      amount: "500.00",
      fields: { custom_1: "Jane Q Client" },
    });
    expect(res.statusCode, res.body).toBe(201);
    const { orderNo } = res.json() as { orderNo: string };
    const paid = await fetch(`${e2e.stack.stub.url}/pay/page/${orderNo}/pay`, { method: "POST" });
    expect(paid.status).toBe(200);
    expect(await wallet()).toMatchObject({ balance: "487.20", held: "0.00", available: "487.20" });
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
  });

  it("a manual method with two levels from 100.00: held, approved by two admins, paid, debited", async () => {
    shotsOnFailure("withdrawal-paid");

    // ---- The owner creates the method in the editor.
    const admin = await staffPage(e2e.stack.owner.email);
    await admin.getByRole("link", { name: "Withdrawal methods" }).click();
    await admin.getByRole("link", { name: "New method" }).click();
    await admin.getByRole("textbox", { name: "Name", exact: true }).fill("Bank transfer");
    const usd = admin.getByTestId("currency-0");
    await usd.getByRole("textbox", { name: "Fee %" }).fill("1.5");
    await usd.getByRole("textbox", { name: "Fixed fee" }).fill("0.30");
    await expectText(usd, "Example: 100.00 USD pays a fee of 1.80, 98.20 paid out.");
    await admin.getByRole("button", { name: "Add field" }).click();
    const field = admin.getByTestId("field-0");
    await field.getByRole("textbox", { name: "Key" }).fill("iban");
    await field.getByRole("textbox", { name: "Label the client sees" }).fill("IBAN");
    await admin.getByRole("button", { name: "Add amount band" }).click();
    const band = admin.getByTestId("band-1");
    // A start the currency cannot hold is refused inline.
    await band.getByRole("textbox", { name: "From amount" }).fill("100.005");
    await admin.getByRole("button", { name: "Create method" }).click();
    await expectText(band, "Not an amount of USD");
    await band.getByRole("textbox", { name: "From amount" }).fill("100.00");
    expect(await band.getByRole("textbox", { name: "Levels" }).inputValue()).toBe("2");
    await expectText(admin.getByTestId("band-0"), "From 0 USD up to 100.00 USD: 1 level(s)");
    await expectText(band, "From 100.00 USD on: 2 level(s)");
    // Level 2 is decided by owners and admins, as level 1.
    const level2 = admin.getByTestId("level-roles-1");
    expect(await level2.getByRole("checkbox", { name: "Admin" }).isChecked()).toBe(true);
    expect(await level2.getByRole("checkbox", { name: "Finance" }).isChecked()).toBe(false);
    await admin.screenshot({ path: screenshotPath("admin-withdrawal-method-form"), fullPage: true });
    await admin.getByRole("button", { name: "Create method" }).click();
    await admin.waitForURL(/\/admin\/withdrawal-methods\/(?!new$)[^/]+$/);
    methodId = admin.url().split("/").pop()!;
    const saved = (await owner.get(`/api/admin/withdrawal-methods/${methodId}`)).json();
    expect(saved).toMatchObject({
      name: "Bank transfer",
      payoutMode: "manual",
      currencies: [{ code: "USD", min: "10.00", max: "5000.00", feePercent: "1.50", feeFixed: "0.30" }],
      fields: [{ key: "iban", label: "IBAN", required: true }],
      approval: { bands: [{ from: "0", levels: 1 }, { levels: 2 }] },
    });
    await admin.getByRole("link", { name: "Withdrawal methods" }).click();
    const methods = admin.getByTestId("withdrawal-methods-table");
    await expectText(methods, "Bank transfer");
    await expectText(methods, "By hand");
    await expectText(methods, "1 level(s); 2 level(s) from 100.00");

    // ---- The client asks for 150.00 in the portal: the fee and what they receive as they type.
    const portal = await clientPage();
    await expectText(portal.getByTestId("available-USD"), "Available 487.20 USD · held 0.00 USD");
    await portal.getByRole("tab", { name: "Withdraw" }).click();
    const form = portal.getByTestId("withdraw-form");
    await expectText(form.getByTestId("withdraw-available"), "487.20 USD");
    const amount = form.getByRole("textbox", { name: "Amount (USD)" });
    await amount.fill("1000");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form, "More than you can withdraw now: at most 487.20 USD");
    await amount.fill("150.00");
    await expectText(form.getByTestId("preview-fee"), "2.55 USD");
    await expectText(form.getByTestId("preview-payout"), "147.45 USD");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form, "Required"); // the IBAN
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    await portal.screenshot({ path: screenshotPath("portal-withdraw-form"), fullPage: true });
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form.getByTestId("withdraw-success"), "150.00 USD is held in your wallet");
    await expectText(form.getByTestId("withdraw-available"), "337.20 USD");
    const list = portal.getByTestId("withdrawal-list");
    await expectText(list, "Requested");
    await expectText(list, "You receive 147.45 USD (fee 2.55 USD)");
    expect(await wallet()).toMatchObject({ balance: "487.20", held: "150.00", available: "337.20" });
    await portal.getByRole("tab", { name: "Wallets" }).click();
    await expectText(portal.getByTestId("balance-USD"), "487.20 USD");
    await expectText(portal.getByTestId("available-USD"), "Available 337.20 USD · held 150.00 USD");

    // ---- Ann approves level 1 from the queue.
    const annPage = await staffPage(ann.email);
    await annPage.getByRole("link", { name: "Withdrawals" }).click();
    const queue = annPage.getByTestId("withdrawals-table");
    await expectText(queue, "150.00 USD");
    await expectText(queue.getByTestId("level-progress"), "0/2");
    await expectText(queue, "Soon after a deposit");
    await expectText(queue, "New destination");
    await queue.getByRole("link").first().click();
    await annPage.waitForURL(/\/admin\/withdrawals\/[^/]+$/);
    const withdrawalId = annPage.url().split("/").pop()!;
    await expectText(annPage.getByTestId("withdrawal-wallet"), "150.00 USD");
    await expectText(annPage.getByTestId("wallet-available"), "337.20 USD");
    await expectText(annPage.getByTestId("withdrawal-destination"), "IBAN: DE89 3704 0044 0532 0130 00");
    await expectText(
      annPage.getByTestId("withdrawal-risk"),
      "A deposit was credited less than 24 hours before this request.",
    );
    await expectText(annPage.getByTestId("recent-deposits"), "500.00 USD");
    await annPage.getByRole("button", { name: "Approve" }).click();
    const dialog = annPage.getByRole("dialog");
    await dialog.getByRole("textbox", { name: "Comment" }).fill("IBAN matches the KYC name");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expectText(annPage.getByTestId("level-progress"), "1/2");
    await expectText(annPage.getByTestId("withdrawal-decisions"), "IBAN matches the KYC name");
    // The same person may not decide level 2: the button is disabled and says why.
    const approve = annPage.getByRole("button", { name: "Approve" });
    await expect.poll(() => approve.isDisabled()).toBe(true);
    await expectText(annPage.getByTestId("why-approve"), "You decided an earlier level");
    await dismissToasts(annPage);
    await annPage.screenshot({ path: screenshotPath("admin-withdrawal-level-2-blocked"), fullPage: true });

    // ---- Bob approves level 2: approved, to be paid.
    const bobPage = await staffPage(bob.email);
    await bobPage.goto(`${e2e.stack.baseUrl}/admin/withdrawals?view=level-2`);
    await expectText(bobPage.getByTestId("withdrawals-table").getByTestId("level-progress"), "1/2");
    await bobPage.goto(`${e2e.stack.baseUrl}/admin/withdrawals/${withdrawalId}`);
    await bobPage.getByRole("button", { name: "Approve" }).click();
    await bobPage.getByRole("dialog").getByRole("textbox", { name: "Comment" }).fill("Second pair of eyes");
    await bobPage.getByRole("dialog").getByRole("button", { name: "Approve" }).click();
    await expectText(bobPage.locator("h2"), "Approved");

    // ---- The owner records the payout from "Approved (to pay)".
    await admin.getByRole("link", { name: "Withdrawals" }).click();
    await admin.getByRole("tab", { name: "Approved (to pay)" }).click();
    await expectText(admin.getByTestId("withdrawals-table").getByTestId("level-progress"), "2/2");
    await admin.goto(`${e2e.stack.baseUrl}/admin/withdrawals/${withdrawalId}`);
    await admin.getByRole("button", { name: "Mark as paid" }).click();
    const paidDialog = admin.getByRole("dialog");
    await expectText(paidDialog, "147.45 USD");
    await paidDialog.getByRole("textbox", { name: "Payout reference" }).fill("SEPA-2026-0001");
    await paidDialog.getByRole("button", { name: "Mark as paid" }).click();
    await expectText(admin.locator("h2"), "Paid");
    await expectText(admin.getByTestId("payout-reference"), "SEPA-2026-0001");
    const timeline = admin.getByTestId("timeline");
    await expectText(timeline, "Paid out, reference SEPA-2026-0001, recorded by owner@payouts.test");
    await expectText(timeline, "150.00 USD left the client's wallet.");
    await expectText(timeline, "Level 2 of 2 approved by bob@payouts.test: Second pair of eyes");
    await expectText(admin.getByTestId("wallet-balance"), "337.20 USD");
    await expectText(admin.getByTestId("wallet-held"), "0.00 USD");
    expect(await admin.getByTestId("withdrawal-actions").count()).toBe(0);
    await dismissToasts(admin);
    await admin.screenshot({ path: screenshotPath("admin-withdrawal-paid"), fullPage: true });

    // ---- The client sees the debit: balance down, nothing held, paid.
    await portal.reload();
    await expectText(portal.getByTestId("balance-USD"), "337.20 USD");
    await expectText(portal.getByTestId("available-USD"), "Available 337.20 USD · held 0.00 USD");
    await portal.getByRole("tab", { name: "Withdraw" }).click();
    await expectText(portal.getByTestId("withdrawal-list"), "Paid");
    expect(await portal.getByTestId("withdrawal-list").getByRole("button", { name: "Cancel" }).count()).toBe(
      0,
    );
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });
  });

  it("a rejection the client reads with its reason, the hold released; and a cancel by the client", async () => {
    shotsOnFailure("withdrawal-rejected");
    const ask = async (amount: string) => {
      const res = await client.post("/api/portal/withdrawals", {
        methodId,
        currency: "USD",
        amount,
        fields: { iban: "GB33 BUKB 2020 1555 5555 55" },
        idempotencyKey: `e2e-${amount}-${Date.now()}`,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; payoutNo: string };
    };
    const rejected = await ask("50.00");
    expect(await wallet()).toMatchObject({ held: "50.00", available: "287.20" });

    const admin = await staffPage(e2e.stack.owner.email);
    await admin.goto(`${e2e.stack.baseUrl}/admin/withdrawals/${rejected.id}`);
    // One level below 100.00.
    await expectText(admin.getByTestId("level-progress"), "0/1");
    await admin.getByRole("button", { name: "Reject" }).click();
    const dialog = admin.getByRole("dialog");
    await dialog.getByRole("button", { name: "Reject" }).click();
    await expectText(dialog, "Required");
    await dialog
      .getByRole("textbox", { name: "Reason shown to the client" })
      .fill("The account is not in your name");
    await dialog.getByRole("textbox", { name: "Comment" }).fill("GB IBAN belongs to someone else");
    await dialog.getByRole("button", { name: "Reject" }).click();
    await expectText(admin.locator("h2"), "Rejected");
    await expectText(admin.getByTestId("timeline"), "The client reads: The account is not in your name");
    await expectText(admin.getByTestId("wallet-held"), "0.00 USD");

    const portal = await clientPage();
    await portal.getByRole("tab", { name: "Withdraw" }).click();
    const row = portal.getByTestId(`withdrawal-${rejected.payoutNo}`);
    await expectText(row, "Rejected");
    await expectText(row.getByTestId("rejection-reason"), "Not approved: The account is not in your name");
    await expectText(portal.getByTestId("withdraw-available"), "337.20 USD");
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });

    // A request nobody has decided yet: the client takes it back.
    const mine = await ask("20.00");
    await portal.reload();
    const pending = portal.getByTestId(`withdrawal-${mine.payoutNo}`);
    await expectText(portal.getByTestId("withdraw-available"), "317.20 USD");
    await pending.getByRole("button", { name: "Cancel" }).click();
    await portal.getByRole("dialog").getByRole("button", { name: "Cancel the withdrawal" }).click();
    await expectText(pending, "Cancelled");
    await expectText(portal.getByTestId("withdraw-available"), "337.20 USD");
    expect(await pending.getByRole("button", { name: "Cancel" }).count()).toBe(0);
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });
    await portal.screenshot({ path: screenshotPath("portal-withdrawals"), fullPage: true });
  });

  it("the withdrawal page in Arabic on a 390-px phone: right to left, every word from the dictionary", async () => {
    shotsOnFailure("withdrawal-ar");
    const ctx = await e2e.chrome.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      locale: "ar-EG",
      timezoneId: "UTC",
    });
    ctx.setDefaultTimeout(15_000);
    contexts.push(ctx);
    const page = await ctx.newPage();
    pages.push(page);
    await page.goto(`${e2e.stack.baseUrl}/portal/login`);
    await page.getByRole("textbox", { name: ar["field.tenant"], exact: true }).fill(e2e.stack.tenant.slug);
    await page.getByRole("textbox", { name: ar["field.email"], exact: true }).fill(e2e.setup.client.email);
    await page
      .getByRole("textbox", { name: ar["field.password"], exact: true })
      .fill(e2e.setup.client.password);
    await page.getByRole("button", { name: ar["auth.login"], exact: true }).click();
    await page.getByRole("heading", { name: ar["wallets.title"], exact: true }).waitFor();
    // Amounts stay one left-to-right unit inside Arabic text.
    await expectText(page.getByTestId("available-USD"), "\u2066337.20 USD\u2069");
    await page.getByRole("tab", { name: ar["nav.withdraw"], exact: true }).click();
    await page.getByRole("heading", { name: ar["withdraw.title"], exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    // Mirrored: the first tab (wallets) right of the withdraw tab.
    const wallets = (await page.getByRole("tab", { name: ar["nav.wallets"], exact: true }).boundingBox())!;
    const withdraw = (await page.getByRole("tab", { name: ar["nav.withdraw"], exact: true }).boundingBox())!;
    expect(wallets.x).toBeGreaterThan(withdraw.x);
    const form = page.getByTestId("withdraw-form");
    await form
      .getByRole("textbox", { name: ar["deposit.amountLabel"].replace("{currency}", "USD") })
      .fill("20");
    await expectText(form.getByTestId("preview-payout"), "19.40 USD");
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    await form.getByRole("button", { name: ar["withdraw.submit"], exact: true }).click();
    await expectText(form.getByTestId("withdraw-success"), ar["withdraw.requestedTitle"]);
    const list = page.getByTestId("withdrawal-list");
    await expectText(list.locator("[data-status=requested]").first(), ar["status.requested"]);
    expect(await hasHorizontalOverflow(page)).toBe(false);
    await page.screenshot({ path: screenshotPath("portal-ar-withdraw-390"), fullPage: true });
    await list.getByRole("button", { name: ar["withdraw.cancel"], exact: true }).first().click();
    await page.getByRole("dialog").getByRole("button", { name: ar["withdraw.cancelConfirm"] }).click();
    await expectText(list.locator("[data-status=cancelled]").first(), ar["status.cancelled"]);
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });
  });
});
