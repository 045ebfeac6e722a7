import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { loginClient, loginStaff } from "../../apps/server/src/test/test-app.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { ok } from "./support/stack.js";
import { expectText, portalLogin } from "./support/ui.js";

/**
 * The API-1 breaker in the portal (issue 17 §2): a method whose provider stopped answering is
 * shown greyed as temporarily unavailable, with the reason, and offers its fallback method.
 */
describe.skipIf(!hasChromium)("the portal shows a method as temporarily unavailable (Chromium)", () => {
  const e2e = useSeededStack("breaker");
  let desk: BrowserContext;
  let portal: Page;

  beforeAll(async () => {
    const { stack, setup } = e2e;
    const owner = await loginStaff(stack.app.app, stack.owner.email, stack.owner.password);
    // A backend nobody listens on: every API-1 call fails to connect.
    const dead = ok(
      await owner.post("/api/admin/integrations", { name: "Dead PSP", appUrl: "http://127.0.0.1:9" }),
      "create integration",
    );
    const bank = ok(
      await owner.post("/api/admin/deposit-methods", {
        name: "Bank transfer",
        integrationId: dead.id,
        currencies: [
          { code: "USD", min: "10.00", max: "5000.00", feePercent: "0", feeFixed: "0", feeMax: null },
        ],
        fallbackMethodId: setup.methodId,
      }),
      "create method",
    );
    const client = await loginClient(
      stack.app.app,
      stack.tenant.slug,
      setup.client.email,
      setup.client.password,
    );
    for (let i = 0; i < 5; i++) {
      const res = await client.post("/api/portal/deposits", {
        methodId: bank.id,
        currency: "USD",
        amount: "10",
      });
      expect(res.json().status).toBe("failed");
    }
    const refused = await client.post("/api/portal/deposits", {
      methodId: bank.id,
      currency: "USD",
      amount: "10",
    });
    expect(refused.statusCode).toBe(503);

    desk = await newContext(e2e.chrome.browser);
    portal = await desk.newPage();
    await portalLogin(portal, stack.baseUrl, stack.tenant.slug, setup.client.email, setup.client.password);
  });

  beforeEach(() => {
    onTestFailed(async () => {
      await portal.screenshot({ path: screenshotPath("failure-breaker"), fullPage: true }).catch(() => {});
    });
  });

  it("greys the method with the reason and offers the fallback instead", async () => {
    await portal.goto(`${e2e.stack.baseUrl}/portal/deposit`);
    const bank = portal.getByTestId("method-Bank transfer");
    await bank.waitFor();
    await expectText(portal.getByTestId("method-unavailable-Bank transfer"), /Temporarily unavailable/);
    expect(await bank.isDisabled()).toBe(true);
    const fallback = portal.getByTestId("method-fallback-Bank transfer");
    await expectText(fallback, "Use Card instead");
    await fallback.click();
    expect(await portal.getByTestId("method-Card").getAttribute("aria-checked")).toBe("true");
    await portal.getByTestId("deposit-form").waitFor();
    await portal.screenshot({ path: screenshotPath("breaker-portal"), fullPage: true });
  });
});
