import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it, onTestFailed } from "vitest";
import { ar } from "../../apps/web/src/i18n/ar.js";
import { en } from "../../apps/web/src/i18n/en.js";
import { LOCALES, type LocaleTag } from "../../apps/web/src/i18n/locales.js";
import { zh } from "../../apps/web/src/i18n/zh.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { expectText, hasHorizontalOverflow, portalLogin } from "./support/ui.js";

/**
 * The portal in English, Simplified Chinese and Arabic: the same deposit, from the form to the
 * credited wallet, in each language, with every text read from that language's dictionary; the
 * language chosen by the browser, by the switcher (and remembered after a reload), and sent to
 * the tenant backend as API-1's `language`; Arabic laid out right to left on a 390-px phone.
 */
const DICTIONARIES = { en, zh, ar } as const;
type Dict = (typeof DICTIONARIES)[LocaleTag];

const fill = (text: string, params: Record<string, string>) =>
  text.replace(/\{(\w+)\}/g, (m, k: string) => params[k] ?? m);

/** An amount as the portal shows it: Arabic keeps it a left-to-right unit (lib/money.ts). */
const cash = (lang: LocaleTag, amount: string) =>
  lang === "ar" ? `\u2066${amount} USD\u2069` : `${amount} USD`;

describe.skipIf(!hasChromium)("the portal in three languages (Chromium)", () => {
  const e2e = useSeededStack("lang");
  const shots: Page[] = [];
  const pageErrors: string[] = [];

  const failureShots = (name: string) =>
    onTestFailed(async () => {
      for (const [i, p] of shots.entries()) {
        await p.screenshot({ path: screenshotPath(`failure-${name}-${i}`), fullPage: true }).catch(() => {});
      }
    });

  const open = async (ctx: BrowserContext) => {
    const page = await ctx.newPage();
    shots.push(page);
    page.on("pageerror", (e) => pageErrors.push(e.message));
    return page;
  };

  /** Logs in with the form's labels in `T`'s language (the switcher may have changed them). */
  async function loginIn(page: Page, T: Dict) {
    const { slug } = e2e.stack.tenant;
    const { email, password } = e2e.setup.client;
    await page.getByRole("textbox", { name: T["field.tenant"], exact: true }).fill(slug);
    await page.getByRole("textbox", { name: T["field.email"], exact: true }).fill(email);
    await page.getByRole("textbox", { name: T["field.password"], exact: true }).fill(password);
    await page.getByRole("button", { name: T["auth.login"], exact: true }).click();
    await page.getByRole("heading", { name: T["wallets.title"], exact: true }).waitFor();
  }

  const htmlLangDir = (page: Page) =>
    page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);

  /**
   * The one deposit every language runs: amount typed, live fee, payment page in a new tab,
   * Pay, success and new balance shown live, then the history row with its date in the
   * language's own format. Returns the order number.
   */
  async function depositIn(
    lang: LocaleTag,
    ctx: BrowserContext,
    page: Page,
    /** `typed` in the form; `shown` as the portal prints it; fee, credit and the new balance. */
    d: { typed: string; shown: string; fee: string; credit: string; balance: string },
  ): Promise<string> {
    const T = DICTIONARIES[lang];
    await page.getByRole("tab", { name: T["nav.deposit"], exact: true }).click();
    const form = page.getByTestId("deposit-form");
    await form
      .getByRole("textbox", { name: fill(T["deposit.amountLabel"], { currency: "USD" }) })
      .fill(d.typed);
    await expectText(page.getByTestId("preview-fee"), `${d.fee} USD`);
    await expectText(page.getByTestId("preview-credit"), `${d.credit} USD`);
    await form.getByRole("textbox", { name: "Name on card", exact: true }).fill("Jane Q Client");
    expect(await hasHorizontalOverflow(page)).toBe(false);

    const [payTab] = await Promise.all([
      ctx.waitForEvent("page"),
      form.getByRole("button", { name: T["deposit.submit"], exact: true }).click(),
    ]);
    shots.push(payTab);
    await payTab.waitForURL(`${e2e.stack.stub.url}/pay/page/**`);
    const orderNo = (await payTab.locator("#order").textContent())!;
    // The tenant backend is told the client's language.
    const call = e2e.stack.stub.api1Calls.find((c) => c.body.order_no === orderNo);
    expect(call?.body.language).toBe(LOCALES[lang].api);
    await page.waitForURL(`**/portal/deposits/${orderNo}`);
    await expectText(page.getByTestId("deposit-waiting"), T["track.waitingTitle"]);

    await payTab.getByRole("button", { name: "Pay", exact: true }).click();
    await expectText(payTab.locator("#result"), "Payment complete");
    await payTab.close();

    await expectText(page.getByTestId("deposit-success"), T["track.successTitle"]);
    await expectText(
      page.getByTestId("deposit-success"),
      fill(T["track.successText"], { credit: cash(lang, d.credit) }),
    );
    await expectText(
      page.getByTestId("new-balance"),
      fill(T["track.newBalance"], { balance: cash(lang, d.balance) }),
    );
    expect(await hasHorizontalOverflow(page)).toBe(false);

    await page.getByRole("tab", { name: T["nav.history"], exact: true }).click();
    const row = page.getByTestId("deposit-history").locator("a", { hasText: orderNo });
    await expectText(row, T["status.succeeded"]);
    await expectText(row, cash(lang, d.shown));
    const shownDate = await page.evaluate(
      async ([o, intl]) => {
        const dep = (await (await fetch(`/api/portal/deposits/${o}`)).json()) as { createdAt: number };
        return new Intl.DateTimeFormat(intl, { dateStyle: "medium", timeStyle: "short" }).format(
          dep.createdAt,
        );
      },
      [orderNo, LOCALES[lang].intl] as const,
    );
    await expectText(row, shownDate);
    await page.getByRole("tab", { name: T["nav.wallets"], exact: true }).click();
    await expectText(page.getByTestId("balance-USD"), cash(lang, d.balance));
    return orderNo;
  }

  it("English: the browser's language, the deposit, `language: en` to API-1", async () => {
    failureShots("lang-en");
    const ctx = await newContext(e2e.chrome.browser);
    const page = await open(ctx);
    await portalLogin(
      page,
      e2e.stack.baseUrl,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    expect(await htmlLangDir(page)).toEqual(["en", "ltr"]);
    await depositIn("en", ctx, page, {
      typed: "100",
      shown: "100.00",
      fee: "2.80",
      credit: "97.20",
      balance: "97.20",
    });
    await ctx.close();
  });

  it("简体中文: chosen with the switcher before logging in, the deposit, and remembered after a reload", async () => {
    failureShots("lang-zh");
    const ctx = await newContext(e2e.chrome.browser); // an English browser
    const page = await open(ctx);
    await page.goto(`${e2e.stack.baseUrl}/portal/`);
    await page.getByRole("heading", { name: en["auth.portalTitle"] }).waitFor();
    await page.getByTestId("language-switcher").click();
    await page.getByRole("menuitem", { name: "简体中文" }).click();
    await page.getByRole("heading", { name: zh["auth.portalTitle"] }).waitFor();
    expect(await htmlLangDir(page)).toEqual(["zh-CN", "ltr"]);
    await loginIn(page, zh);
    await depositIn("zh", ctx, page, {
      typed: "200",
      shown: "200.00",
      fee: "5.30",
      credit: "194.70",
      balance: "291.90",
    });

    await page.reload();
    await page.getByRole("heading", { name: zh["wallets.title"], exact: true }).waitFor();
    expect(await htmlLangDir(page)).toEqual(["zh-CN", "ltr"]);
    expect(await page.getByTestId("language-switcher").textContent()).toContain("简体中文");
    await ctx.close();
  });

  it("العربية: the browser's language on a 390-px phone, right to left, the deposit, then back to English", async () => {
    failureShots("lang-ar");
    const ctx = await e2e.chrome.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      locale: "ar-EG",
      timezoneId: "UTC",
    });
    ctx.setDefaultTimeout(15_000);
    const page = await open(ctx);
    await page.goto(`${e2e.stack.baseUrl}/portal/`);
    await page.getByRole("heading", { name: ar["auth.portalTitle"] }).waitFor();
    expect(await htmlLangDir(page)).toEqual(["ar", "rtl"]);
    expect(await hasHorizontalOverflow(page)).toBe(false);
    await loginIn(page, ar);

    // Mirrored: the first tab (wallets) on the right, the company name right of the logout button.
    const box = async (sel: ReturnType<Page["getByRole"]>) => (await sel.boundingBox())!;
    const wallets = await box(page.getByRole("tab", { name: ar["nav.wallets"], exact: true }));
    const history = await box(page.getByRole("tab", { name: ar["nav.history"], exact: true }));
    expect(wallets.x).toBeGreaterThan(history.x);
    const title = (await page.getByRole("heading", { name: e2e.stack.tenant.name }).boundingBox())!;
    const logout = (await page.getByTestId("logout").boundingBox())!;
    expect(title.x).toBeGreaterThan(logout.x);
    expect(title.x + title.width).toBeLessThanOrEqual(390);
    expect(await hasHorizontalOverflow(page)).toBe(false);

    await depositIn("ar", ctx, page, {
      typed: "1234.56",
      shown: "1,234.56",
      fee: "20.00",
      credit: "1,214.56",
      balance: "1,506.46",
    });
    expect(await hasHorizontalOverflow(page)).toBe(false);
    await page.screenshot({ path: screenshotPath("portal-ar-rtl-390") });

    // Switched without a reload: left to right again, in English.
    await page.getByTestId("language-switcher").click();
    await page.getByRole("menuitem", { name: "English" }).click();
    await page.getByRole("heading", { name: en["wallets.title"], exact: true }).waitFor();
    expect(await htmlLangDir(page)).toEqual(["en", "ltr"]);
    const walletsLtr = await box(page.getByRole("tab", { name: en["nav.wallets"], exact: true }));
    const historyLtr = await box(page.getByRole("tab", { name: en["nav.history"], exact: true }));
    expect(walletsLtr.x).toBeLessThan(historyLtr.x);
    await ctx.close();
    expect(pageErrors).toEqual([]);
  });
});
