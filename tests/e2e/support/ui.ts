import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

/** The few UI steps several tests share, written as a person would do them. */

/** `tenant`: the company code, for a person who is staff at several companies. */
export async function adminLogin(
  page: Page,
  baseUrl: string,
  email: string,
  password: string,
  tenant?: string,
): Promise<void> {
  await page.goto(`${baseUrl}/admin/`);
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(password);
  if (tenant) await page.getByRole("textbox", { name: "Company code", exact: true }).fill(tenant);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("me-role").waitFor();
}

export async function portalLogin(
  page: Page,
  baseUrl: string,
  tenant: string,
  email: string,
  password: string,
): Promise<void> {
  await page.goto(`${baseUrl}/portal/`);
  await page.getByRole("textbox", { name: "Company", exact: true }).fill(tenant);
  await page.getByRole("textbox", { name: "Email", exact: true }).fill(email);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Wallets" }).waitFor();
}

/** Picks an option of a Mantine Select by its label. */
export async function choose(page: Page, label: string, option: string): Promise<void> {
  await page.getByRole("combobox", { name: label, exact: true }).click();
  await page.getByRole("option", { name: option }).click();
}

/** Whether the page scrolls sideways (content wider than the viewport). */
export async function hasHorizontalOverflow(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
}

/** Waits until the locator's text contains `text` (playwright-core has no expect of its own). */
export async function expectText(locator: Locator, text: string | RegExp, timeout = 15_000): Promise<void> {
  const read = async () => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? "") : "");
  const poll = expect.poll(read, { timeout, interval: 100 });
  if (typeof text === "string") await poll.toContain(text);
  else await poll.toMatch(text);
}

/** Closes the toasts, so screenshots show the page itself. */
export async function dismissToasts(page: Page): Promise<void> {
  const close = page.locator(".mantine-Notification-root button");
  while ((await close.count()) > 0) {
    await close
      .first()
      .click({ timeout: 2_000 })
      .catch(() => {});
    await page.waitForTimeout(50);
  }
  await page.waitForTimeout(300);
}

/** Scrolls an element to the middle of the viewport (clear of sticky bars) for a screenshot. */
export async function centre(locator: Locator): Promise<void> {
  await locator.evaluate((el) => el.scrollIntoView({ block: "center" }));
}
