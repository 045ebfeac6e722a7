import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { JobLoop } from "../../apps/server/src/infra/jobs/job-loop.js";
import { startDeliveryWorker } from "../../apps/server/src/modules/webhooks/delivery-worker.js";
import {
  signedWith,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../apps/server/src/test/webhook-receiver.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { adminLogin, expectText } from "./support/ui.js";

/**
 * The back office's webhook pages in a real browser (docs/webhooks.md): an endpoint is added
 * and its secret shown once, a test event arrives signed with it and shows in the delivery log
 * with its attempt, a failing answer is logged with its body, and Replay sends it again.
 */
describe.skipIf(!hasChromium)("webhook endpoints and their delivery log (Chromium)", () => {
  const e2e = useSeededStack("hooks");
  let desk: BrowserContext;
  let page: Page;
  let rx: WebhookReceiver;
  let worker: JobLoop;

  beforeAll(async () => {
    rx = await startWebhookReceiver();
    // The e2e stack is the app without main.ts's workers: this suite runs the delivery worker.
    worker = startDeliveryWorker(e2e.stack.app.ctx, { pollMs: 100, concurrency: 4 });
    desk = await newContext(e2e.chrome.browser);
    page = await desk.newPage();
    await adminLogin(page, e2e.stack.baseUrl, e2e.stack.owner.email, e2e.stack.owner.password);
  });
  afterAll(async () => {
    await worker?.stop();
    await rx?.close();
  });

  it("adds an endpoint (secret once), delivers a signed test event, logs a failure and replays it", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: screenshotPath("failure-webhooks"), fullPage: true }).catch(() => {});
    });
    await page.goto(`${e2e.stack.baseUrl}/admin/webhooks`);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const form = page.getByTestId("webhook-endpoint-form");
    await form.getByRole("textbox", { name: "URL" }).fill(rx.url);
    await form.getByRole("textbox", { name: "Description" }).fill("Risk engine");
    await form.getByRole("button", { name: "Create endpoint" }).click();

    // The secret, once.
    const secretBox = page.getByTestId("webhook-secret");
    await expectText(secretBox, /^whsec_/);
    const secret = (await secretBox.textContent())?.trim() ?? "";
    await page.screenshot({ path: screenshotPath("webhook-secret"), fullPage: true });
    await page.getByRole("button", { name: "I have stored it" }).click();
    await secretBox.waitFor({ state: "detached" });
    await page.waitForURL(/\/admin\/webhooks\/[^/]+$/);
    const endpointId = page.url().split("/").pop() as string;
    expect(await page.content()).not.toContain(secret);

    // A test event: delivered, signed with that secret, listed with its attempt.
    await page.getByRole("button", { name: "Send test event" }).click();
    const log = page.getByTestId("webhook-deliveries");
    await expectText(log, /webhook\.test/);
    await expectText(log.getByText("Delivered"), "Delivered");
    expect(rx.received).toHaveLength(1);
    const w = rx.received[0] as (typeof rx.received)[number];
    expect(w.json).toMatchObject({ type: "webhook.test", data: { endpointId } });
    expect(String(w.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(await signedWith(w, secret)).toBe(true);
    await log.getByRole("button", { name: "webhook.test" }).first().click();
    const delivery = page.getByTestId("webhook-delivery");
    await expectText(delivery.getByTestId("webhook-attempt-status"), "200");
    await expectText(delivery.getByTestId("webhook-request-headers"), String(w.headers["webhook-id"]));
    await expectText(delivery.getByTestId("webhook-body"), /"type": "webhook.test"/);
    await page.keyboard.press("Escape");

    // The receiver breaks: the next one fails, logged with its answer, waiting for a retry.
    rx.respond = () => ({ status: 500, body: "receiver broke" });
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect.poll(() => rx.received.length, { timeout: 15_000 }).toBe(2);
    await expectText(page.getByTestId("webhook-endpoint-rate"), "50 %");
    const failed = log.getByRole("row").filter({ hasText: "Pending" }).first();
    await expectText(failed, "500");
    await failed.getByRole("button", { name: "webhook.test" }).click();
    await expectText(delivery.getByTestId("webhook-attempt-status"), "500");
    await expectText(delivery.getByTestId("webhook-response-body"), "receiver broke");
    await page.screenshot({ path: screenshotPath("webhook-delivery-failed"), fullPage: true });

    // Fixed: Replay sends it again at once, with the same webhook-id.
    rx.respond = () => ({ status: 200 });
    await delivery.getByRole("button", { name: "Replay" }).click();
    await expect.poll(() => rx.received.length, { timeout: 15_000 }).toBe(3);
    expect(rx.received[2]?.headers["webhook-id"]).toBe(rx.received[1]?.headers["webhook-id"]);
    await expectText(delivery.getByTestId("webhook-attempt-status").first(), "200");
    await page.keyboard.press("Escape");
    await expect
      .poll(async () => (await log.getByText("Delivered").count()) >= 2, { timeout: 15_000 })
      .toBe(true);
  });
});
