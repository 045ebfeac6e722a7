import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signPayoutCallback, verify } from "@psphub/protocol";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { JobLoop } from "../../apps/server/src/infra/jobs/job-loop.js";
import { startPayoutWorker } from "../../apps/server/src/modules/payouts/payout-worker.js";
import { createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { loginClient, loginStaff, type Session, TEST_PASSWORD } from "../../apps/server/src/test/test-app.js";
import { axeViolations } from "./support/axe.js";
import { hasChromium, newContext, screenshotPath } from "./support/chromium.js";
import { useSeededStack } from "./support/fixture.js";
import { ok } from "./support/stack.js";
import { adminLogin, choose, dismissToasts, expectText } from "./support/ui.js";

/**
 * Payouts through an integration in a real browser (docs/withdrawals.md#payouts), against a
 * tenant backend on loopback that answers API-4 (`POST /payout/request`) and the payout status
 * query (`POST /payout/status`), checking the token and sign of each, as
 * docs/psp-open-api.md#api-4 says. The method pays "through an integration", needs 2 levels and
 * starts no payout by itself; a failed payout keeps the hold for finance.
 *
 * (a) Finance asks for a withdrawal from the client's page and may not approve it (own request,
 *     in words); two other people approve; finance starts the payout; the backend fails API-4,
 *     the payout job sends it again and then hands it to finance (the queue's "Needs
 *     assistance"); "Check payout now" with the backend taking it (paying); an API-5 "paid" from
 *     the backend: Paid, and the client's wallet debited.
 * (b) The form's refusals from the server (an amount the method no longer takes, at its field;
 *     more than the client can withdraw, in words with the available amount); then a payout the
 *     backend reports failed (API-5 status 0): the hold kept and explained, and "Mark payout
 *     failed" with a comment gives it back.
 * (c) A payout the status queries leave open (the backend does not know it): finance records it
 *     paid by hand with a reference.
 *
 * The e2e stack runs the server in this process without its background jobs
 * (createTestApp): the payout job is started here as `serve` starts it when
 * STATUS_QUERY_POLL_MS > 0, polling every 200 ms. The integration's payout schedule is made
 * short (whole seconds) through the database handle: the admin API allows no step under 10 s.
 */

/** The tenant's backend for payouts, answering as the test tells it. */
type PayoutBackend = {
  url: string;
  merchantId: string;
  token: string;
  /** What API-4 answers: a 502 (no usable answer: sent again later), or taken. */
  api4: "error" | "accept";
  /** The status query's answer per payout_no (0 failed, 1 paid, 2 processing); unknown otherwise. */
  statuses: Map<string, 0 | 1 | 2>;
  /** The payout_no of every API-4 received, in order. */
  api4Calls: string[];
  statusCalls: string[];
  /** Requests whose token or sign did not verify (never from the CRM). */
  refused: number;
  close(): Promise<void>;
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function startPayoutBackend(): Promise<PayoutBackend> {
  /** API-4's amount (a JSON number) by payout_no, for the status answers. */
  const amounts = new Map<string, number>();
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
    res.end(text);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {}
      const signed =
        req.headers["crm-pay-token"] === backend.token &&
        body.merchant_id === backend.merchantId &&
        verify(raw, backend.token);
      if (!signed) {
        backend.refused++;
        return answer(res, 401, { result: false, msg: "token or sign", data: null });
      }
      const payoutNo = String(body.payout_no);
      if (req.method === "POST" && req.url === "/payout/request") {
        backend.api4Calls.push(payoutNo);
        amounts.set(payoutNo, Number(body.amount));
        if (backend.api4 === "error") return answer(res, 502, "bad gateway");
        return answer(res, 200, { result: true, msg: "", data: { transaction_id: `tx-${payoutNo}` } });
      }
      if (req.method === "POST" && req.url === "/payout/status") {
        backend.statusCalls.push(payoutNo);
        const status = backend.statuses.get(payoutNo);
        if (status === undefined)
          return answer(res, 200, { result: false, msg: "", data: { code: "payout_not_found" } });
        return answer(res, 200, {
          result: true,
          msg: "",
          data: signPayoutCallback(
            {
              merchantId: backend.merchantId,
              payoutNo,
              amount: amounts.get(payoutNo) ?? 0,
              currency: "USD",
              status,
              time: Date.now(),
              transactionId: `tx-${payoutNo}`,
            },
            backend.token,
          ),
        });
      }
      return answer(res, 404, { result: false, msg: "no such path", data: null });
    })();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const backend: PayoutBackend = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    merchantId: "",
    token: "",
    api4: "accept",
    statuses: new Map(),
    api4Calls: [],
    statusCalls: [],
    refused: 0,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return backend;
}

describe.skipIf(!hasChromium)("payouts through an integration (Chromium)", () => {
  const e2e = useSeededStack("payout");
  const ann = { email: "ann@payout.test", name: "Ann Admin", role: "admin" as const };
  const fay = { email: "fay@payout.test", name: "Fay Finance", role: "finance" as const };
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  let backend: PayoutBackend;
  let job: JobLoop | undefined;
  let owner: Session;
  let annApi: Session;
  let client: Session;
  let clientId = "";
  let integrationId = "";
  let payoutMethodId = "";
  let manualMethodId = "";

  /** The PSP method's settings (PUT replaces them all): 2 levels, started by hand, a failure keeps the hold. */
  const payoutMethod = (min = "10.00") => ({
    name: "Bank payout (PSP)",
    currencies: [{ code: "USD", min, max: "5000.00", feePercent: "1", feeFixed: "0.50" }],
    fields: [{ key: "iban", label: "IBAN", required: true }],
    payoutMode: "integration" as const,
    integrationId,
    approval: {
      bands: [{ from: "0", levels: 2 }],
      rolesByLevel: [
        ["owner", "admin", "finance"],
        ["owner", "admin", "finance"],
      ],
      autoPayout: false,
    },
    failedPayout: "keep" as const,
  });

  const staffPage = async (email: string): Promise<Page> => {
    const ctx = await newContext(e2e.chrome.browser);
    contexts.push(ctx);
    const page = await ctx.newPage();
    pages.push(page);
    await adminLogin(page, e2e.stack.baseUrl, email, TEST_PASSWORD);
    return page;
  };
  const shotsOnFailure = (name: string) =>
    onTestFailed(async () => {
      for (const [i, p] of pages.entries())
        await p.screenshot({ path: screenshotPath(`failure-${name}-${i}`), fullPage: true }).catch(() => {});
    });
  const detailUrl = (id: string) => `${e2e.stack.baseUrl}/admin/withdrawals/${id}`;
  /** The client's USD wallet as the back office's API answers it. */
  const wallet = async () => {
    const c = (await owner.get(`/api/admin/clients/${clientId}`)).json() as {
      wallets: { currency: string; balance: string; held: string; available: string }[];
    };
    return c.wallets.find((w) => w.currency === "USD");
  };
  /** The payout schedule of the integration, in seconds after API-4 and after each step. */
  const schedule = (seconds: number[]) =>
    e2e.stack.app.ctx.db
      .updateTable("psp_integrations")
      .set({ status_query_schedule: JSON.stringify(seconds) })
      .where("id", "=", integrationId)
      .execute();
  /** API-5 from the backend, signed with the integration's token; answered 204 when taken. */
  const api5 = async (payoutNo: string, amount: string, status: 0 | 1 | 2) => {
    const body = signPayoutCallback(
      {
        merchantId: backend.merchantId,
        payoutNo,
        amount: Number(amount),
        currency: "USD",
        status,
        time: Date.now(),
        transactionId: `tx-${payoutNo}`,
      },
      backend.token,
    );
    const res = await fetch(`${e2e.stack.baseUrl}/api/psp/payout/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": backend.token },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.text()).toBe(204);
  };
  /** Reloads the page until `locator` shows `text` (a list that does not refresh by itself). */
  const reloadUntil = async (page: Page, locator: Locator, text: string) => {
    await expect
      .poll(
        async () => {
          await page.reload();
          await page.getByRole("heading", { level: 2 }).first().waitFor();
          await page.waitForLoadState("networkidle").catch(() => {});
          return (await locator.count()) > 0 ? ((await locator.first().textContent()) ?? "") : "";
        },
        { timeout: 30_000, interval: 500 },
      )
      .toContain(text);
  };
  /** Opens the client's page and its "Request a withdrawal" dialog with the PSP method chosen. */
  const openRequestForm = async (page: Page) => {
    await page.goto(`${e2e.stack.baseUrl}/admin/clients/${clientId}`);
    await page.getByRole("button", { name: "Request a withdrawal" }).click();
    const dialog = page.getByRole("dialog");
    await expectText(dialog, "Request a withdrawal for Jane Client");
    await choose(page, "Method", "Bank payout (PSP)");
    const form = dialog.getByTestId("staff-withdraw-form");
    await form.waitFor();
    return { dialog, form, amount: form.getByRole("textbox", { name: "Amount (USD)" }) };
  };
  /** A withdrawal the client asks for through the API, and both levels approved by Ann and the owner. */
  const approvedByApi = async (amount: string) => {
    const res = await client.post("/api/portal/withdrawals", {
      methodId: payoutMethodId,
      currency: "USD",
      amount,
      fields: { iban: "FR14 2004 1010 0505 0001 3M02 606" },
    });
    expect(res.statusCode, res.body).toBe(201);
    const w = res.json() as { id: string; payoutNo: string };
    for (const who of [annApi, owner]) {
      const a = await who.post(`/api/admin/withdrawals/${w.id}/approve`, { comment: "checked" });
      expect(a.statusCode, a.body).toBe(200);
    }
    return w;
  };

  beforeAll(async () => {
    for (const p of [ann, fay])
      await createUser(e2e.stack.app.ctx, e2e.stack.tenant.id, { ...p, password: TEST_PASSWORD });
    owner = await loginStaff(e2e.stack.app.app, e2e.stack.owner.email, e2e.stack.owner.password);
    annApi = await loginStaff(e2e.stack.app.app, ann.email, TEST_PASSWORD);
    client = await loginClient(
      e2e.stack.app.app,
      e2e.stack.tenant.slug,
      e2e.setup.client.email,
      e2e.setup.client.password,
    );
    const clients = (await owner.get("/api/admin/clients?limit=10")).json() as {
      items: { id: string; email: string }[];
    };
    clientId = clients.items.find((c) => c.email === e2e.setup.client.email)!.id;

    // The tenant's backend for payouts, and an integration whose APP_URL is it.
    backend = await startPayoutBackend();
    integrationId = ok(
      await owner.post("/api/admin/integrations", { name: "Payout PSP", appUrl: backend.url }),
      "create the payout integration",
    ).id;
    const secrets = (await owner.post(`/api/admin/integrations/${integrationId}/reveal`)).json() as {
      merchantId: string;
      token: string;
    };
    backend.merchantId = secrets.merchantId;
    backend.token = secrets.token;
    payoutMethodId = ok(
      await owner.post("/api/admin/withdrawal-methods", payoutMethod()),
      "create the PSP method",
    ).id;
    manualMethodId = ok(
      await owner.post("/api/admin/withdrawal-methods", {
        name: "Bank transfer (by hand)",
        currencies: [{ code: "USD", min: "10.00", max: "5000.00", feePercent: "0", feeFixed: "1.00" }],
        fields: [{ key: "iban", label: "IBAN", required: true }],
        payoutMode: "manual",
        approval: { bands: [{ from: "0", levels: 1 }] },
      }),
      "create the manual method",
    ).id;

    // Funded as a client funds a wallet: 500.00 paid on the deposit stub's page (fee 12.80).
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

    // The payout job, as `serve` runs it (STATUS_QUERY_POLL_MS > 0).
    job = startPayoutWorker(e2e.stack.app.ctx, { pollMs: 200, concurrency: 2 });
  });
  afterAll(async () => {
    await job?.stop();
    for (const ctx of contexts) await ctx.close();
    await backend?.close();
  });

  it("(a) finance asks, two others approve, API-4 unanswered then checked again, API-5 paid: debited", async () => {
    shotsOnFailure("payout-paid");

    // ---- Finance asks for 150.00 from the client's page.
    const finance = await staffPage(fay.email);
    const { dialog, form, amount } = await openRequestForm(finance);
    await expectText(form.getByTestId("staff-withdraw-available"), "487.20 USD");
    await amount.fill("1000");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form, "More than the client can withdraw now: at most 487.20 USD");
    await amount.fill("150.00");
    // 1 % of 150.00 + 0.50.
    await expectText(form.getByTestId("preview-fee"), "2.00 USD");
    await expectText(form.getByTestId("preview-payout"), "148.00 USD");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form, "Required"); // the IBAN
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    expect(await axeViolations(finance)).toEqual([]);
    await finance.screenshot({ path: screenshotPath("admin-withdrawal-for-client"), fullPage: true });
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await finance.waitForURL(/\/admin\/withdrawals\/[^/]+$/);
    await dialog.waitFor({ state: "detached" });
    const id = finance.url().split("/").pop()!;
    const { payoutNo } = (await owner.get(`/api/admin/withdrawals/${id}`)).json() as { payoutNo: string };

    // ---- She may not approve her own request, and reads why.
    await expectText(finance.getByTestId("level-progress"), "0/2");
    await expectText(finance.getByTestId("wallet-held"), "150.00 USD");
    const approve = finance.getByRole("button", { name: "Approve" });
    await expect.poll(() => approve.isDisabled()).toBe(true);
    await expectText(
      finance.getByTestId("why-approve"),
      "You requested this withdrawal: another person decides it.",
    );
    await expectText(
      finance.getByTestId("timeline"),
      "150.00 USD requested by fay@payout.test for the client, fee 2.00 USD.",
    );
    // Nothing to start before the levels are approved.
    expect(await finance.getByRole("button", { name: "Start payout" }).count()).toBe(0);

    // ---- Ann and the owner approve the two levels.
    for (const [email, comment] of [
      [ann.email, "IBAN checked"],
      [e2e.stack.owner.email, "Second pair of eyes"],
    ] as const) {
      const page = await staffPage(email);
      await page.goto(detailUrl(id));
      await page.getByRole("button", { name: "Approve" }).click();
      const d = page.getByRole("dialog");
      await d.getByRole("textbox", { name: "Comment" }).fill(comment);
      await d.getByRole("button", { name: "Approve" }).click();
      await d.waitFor({ state: "detached" });
    }

    // ---- Finance starts the payout; the backend gives no usable answer to API-4.
    backend.api4 = "error";
    await schedule([1, 1]);
    await finance.reload();
    await expectText(finance.locator("h2"), "Approved");
    await expectText(finance.getByTestId("level-progress"), "2/2");
    // Started by hand (the method's autoPayout is off); nothing to check before it starts.
    expect(await finance.getByRole("button", { name: "Check payout now" }).count()).toBe(0);
    await finance.getByRole("button", { name: "Start payout" }).click();
    const start = finance.getByRole("dialog");
    await expectText(start, "Start the payout of");
    await expectText(start, "Sends 148.00 USD to the client through the method's integration.");
    await start.getByRole("button", { name: "Start payout" }).click();
    await start.waitFor({ state: "detached" });
    await expectText(finance.getByTestId("timeline"), "Sent to the integration by fay@payout.test.");
    await expectText(
      finance.getByTestId("timeline"),
      "No usable answer from the integration (http_status_502)",
    );
    // Started once: the page offers to check it, never to start it again.
    expect(await finance.getByRole("button", { name: "Start payout" }).count()).toBe(0);

    // ---- The payout job sends API-4 again on the schedule, then hands it to finance.
    await finance.getByRole("link", { name: "Withdrawals", exact: true }).click();
    await finance.getByRole("tab", { name: "Needs assistance" }).click();
    const queue = finance.getByTestId("withdrawals-table");
    await reloadUntil(finance, queue, payoutNo);
    expect(backend.api4Calls.filter((p) => p === payoutNo)).toHaveLength(2);
    await expectText(queue.getByTestId("needs-assistance"), "Needs assistance");
    await dismissToasts(finance);
    await finance.screenshot({ path: screenshotPath("admin-withdrawals-needs-assistance"), fullPage: true });
    await queue.getByRole("link", { name: payoutNo }).click();
    await finance.waitForURL(detailUrl(id));
    await expectText(
      finance.getByTestId("assistance-alert"),
      "The integration did not answer the payout request.",
    );
    await expectText(finance.getByTestId("timeline"), "Needs assistance");
    for (const name of ["Mark as paid", "Check payout now", "Mark payout failed"])
      expect(await finance.getByRole("button", { name }).isEnabled()).toBe(true);

    // ---- "Check payout now": the backend takes it this time (API-4 again): being paid.
    backend.api4 = "accept";
    await schedule([600]);
    await finance.getByRole("button", { name: "Check payout now" }).click();
    const check = finance.getByRole("dialog");
    await expectText(check, "Sends the payout request for 148.00 USD to the integration again.");
    await check.getByRole("button", { name: "Check payout now" }).click();
    await check.waitFor({ state: "detached" });
    await expectText(finance.locator("h2"), "Being paid");
    expect(await finance.getByTestId("assistance-alert").count()).toBe(0);
    await expectText(finance.getByTestId("payout-under-way"), "The payout is with the integration");
    const timeline = finance.getByTestId("timeline");
    await expectText(
      timeline,
      "fay@payout.test asked the integration again; the payout's schedule starts over.",
    );
    await expectText(timeline, `The integration took the payout (transaction tx-${payoutNo}).`);
    await expectText(finance.getByTestId("withdrawal-figures"), `tx-${payoutNo}`);
    expect(backend.api4Calls.filter((p) => p === payoutNo)).toHaveLength(3);
    expect(await finance.getByRole("button", { name: "Mark payout failed" }).count()).toBe(0);

    // ---- API-5 "paid": the open page shows it by itself, and the hold left the wallet once.
    await api5(payoutNo, "148.00", 1);
    await api5(payoutNo, "148.00", 1); // a repeat changes nothing
    await expectText(finance.locator("h2"), "Paid");
    await expectText(timeline, `Paid out through the integration (transaction tx-${payoutNo}).`);
    await expectText(timeline, "The integration reports the payout paid.");
    await expectText(timeline, "150.00 USD left the client's wallet.");
    await expectText(finance.getByTestId("wallet-balance"), "337.20 USD");
    await expectText(finance.getByTestId("wallet-held"), "0.00 USD");
    expect(await finance.getByTestId("withdrawal-actions").count()).toBe(0);
    await dismissToasts(finance);
    await finance.screenshot({ path: screenshotPath("admin-withdrawal-paid-through-psp"), fullPage: true });

    await finance.getByRole("link", { name: "Jane Client" }).click();
    await expectText(finance.getByTestId("client-wallets"), "337.20 USD");
    await expectText(finance.getByTestId("held-USD"), "Held 0.00 USD · available 337.20 USD");
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });
    const ledger = await e2e.stack.app.ctx.db
      .selectFrom("ledger_entries")
      .select(["kind", "amount_minor"])
      .where("withdrawal_id", "=", id)
      .orderBy("kind")
      .execute();
    expect(ledger.map((l) => [l.kind, Number(l.amount_minor)])).toEqual([
      ["withdrawal_debit", -15_000],
      ["withdrawal_hold", 15_000],
      ["withdrawal_release", -15_000],
    ]);
    expect(backend.refused).toBe(0);
  });

  it("(b) the server's refusals in the form; API-5 failed under `keep`: the hold explained, then released by hand", async () => {
    shotsOnFailure("payout-failed-kept");
    backend.api4 = "accept";
    await schedule([600]);
    const finance = await staffPage(fay.email);

    // ---- The method's minimum is raised while the form is open: the server's issue at the amount.
    let { dialog, form, amount } = await openRequestForm(finance);
    const put = await owner.put(`/api/admin/withdrawal-methods/${payoutMethodId}`, payoutMethod("120.00"));
    expect(put.statusCode, put.body).toBe(200);
    await amount.fill("100.00");
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(form, "Outside the method's minimum and maximum");
    expect(await amount.getAttribute("aria-invalid")).toBe("true");
    const restored = await owner.put(`/api/admin/withdrawal-methods/${payoutMethodId}`, payoutMethod());
    expect(restored.statusCode, restored.body).toBe(200);

    // ---- Another withdrawal holds all but 50.00 meanwhile: refused, with what is available now.
    const before = (await wallet())!;
    const other = await client.post("/api/portal/withdrawals", {
      methodId: manualMethodId,
      currency: "USD",
      amount: (Number(before.available) - 50).toFixed(2),
      fields: { iban: "DE89 3704 0044 0532 0130 00" },
    });
    expect(other.statusCode, other.body).toBe(201);
    await amount.fill("100.0");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await expectText(
      form.getByTestId("staff-withdraw-error"),
      "More than the client can withdraw now. Available: 50.00 USD.",
    );
    await expectText(form.getByTestId("staff-withdraw-available"), "50.00 USD");
    const cancelled = await client.post(
      `/api/portal/withdrawals/${(other.json() as { id: string }).id}/cancel`,
    );
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });

    // ---- Asked again with the balance as it is now: 100.00.
    ({ dialog, form, amount } = await openRequestForm(finance));
    await expectText(form.getByTestId("staff-withdraw-available"), "337.20 USD");
    await amount.fill("100.00");
    await expectText(form.getByTestId("preview-payout"), "98.50 USD");
    await form.getByRole("textbox", { name: "IBAN" }).fill("DE89 3704 0044 0532 0130 00");
    await form.getByRole("button", { name: "Request withdrawal" }).click();
    await finance.waitForURL(/\/admin\/withdrawals\/[^/]+$/);
    const id = finance.url().split("/").pop()!;
    const { payoutNo } = (await owner.get(`/api/admin/withdrawals/${id}`)).json() as { payoutNo: string };
    for (const who of [annApi, owner]) {
      const a = await who.post(`/api/admin/withdrawals/${id}/approve`, { comment: "checked" });
      expect(a.statusCode, a.body).toBe(200);
    }

    // ---- Started: the backend takes it (paying).
    await finance.reload();
    await finance.getByRole("button", { name: "Start payout" }).click();
    await finance.getByRole("dialog").getByRole("button", { name: "Start payout" }).click();
    await expectText(finance.locator("h2"), "Being paid");
    await expectText(finance.getByTestId("wallet-held"), "100.00 USD");

    // ---- API-5 "failed": the method keeps the hold for finance, and the page says so.
    await api5(payoutNo, "98.50", 0);
    await expectText(
      finance.getByTestId("assistance-alert"),
      "the method keeps 100.00 USD held in the client's wallet",
    );
    await expectText(finance.locator("h2"), "Needs assistance");
    await expectText(finance.locator("h2"), "Being paid");
    await expectText(
      finance.getByTestId("timeline"),
      "The payout failed (the integration reported it failed). The method keeps 100.00 USD held for finance to decide.",
    );
    await expectText(finance.getByTestId("wallet-held"), "100.00 USD");
    await expectText(finance.getByTestId("wallet-available"), "237.20 USD");
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "100.00", available: "237.20" });
    expect(await axeViolations(finance)).toEqual([]);
    await dismissToasts(finance);
    await finance.screenshot({ path: screenshotPath("admin-withdrawal-failed-hold-kept"), fullPage: true });

    // ---- "Mark payout failed" with a comment: the hold goes back.
    await finance.getByRole("button", { name: "Mark payout failed" }).click();
    const close = finance.getByRole("dialog");
    await expectText(
      close,
      "Only when the money did not leave: the hold of 100.00 USD goes back to the client.",
    );
    await close.getByRole("button", { name: "Mark payout failed" }).click();
    await expectText(close, "Required");
    await close.getByRole("textbox", { name: "Comment" }).fill("The bank returned the transfer");
    await close.getByRole("button", { name: "Mark payout failed" }).click();
    await close.waitFor({ state: "detached" });
    await expectText(finance.locator("h2"), "Failed");
    expect(await finance.getByTestId("needs-assistance").count()).toBe(0);
    const timeline = finance.getByTestId("timeline");
    await expectText(timeline, "Closed as failed by fay@payout.test: The bank returned the transfer");
    await expectText(timeline, "100.00 USD back in the client's available balance.");
    await expectText(finance.getByTestId("wallet-held"), "0.00 USD");
    expect(await finance.getByTestId("withdrawal-actions").count()).toBe(0);

    await finance.getByRole("link", { name: "Jane Client" }).click();
    await expectText(finance.getByTestId("held-USD"), "Held 0.00 USD · available 337.20 USD");
    expect(await wallet()).toMatchObject({ balance: "337.20", held: "0.00", available: "337.20" });
  });

  it("(c) a payout the status queries leave open: finance records it paid by hand", async () => {
    shotsOnFailure("payout-unresolved");
    backend.api4 = "accept";
    await schedule([1, 1]);
    const before = (await wallet())!;
    /** The balance less the 50.00 paid out here. */
    const after = (Number(before.balance) - 50).toFixed(2);
    const { id, payoutNo } = await approvedByApi("50.00");
    const started = await owner.post(`/api/admin/withdrawals/${id}/start-payout`, {});
    expect(started.statusCode, started.body).toBe(200);

    const finance = await staffPage(fay.email);
    await finance.goto(`${e2e.stack.baseUrl}/admin/withdrawals?view=assistance`);
    const queue = finance.getByTestId("withdrawals-table");
    await reloadUntil(finance, queue, payoutNo);
    expect(backend.statusCalls.filter((p) => p === payoutNo)).toHaveLength(2);
    await queue.getByRole("link", { name: payoutNo }).click();
    await expectText(
      finance.getByTestId("assistance-alert"),
      "The integration has not said whether the payout was made.",
    );
    await expectText(
      finance.getByTestId("timeline"),
      "Asked for the payout's status: the integration does not know the payout.",
    );

    // A dialog put away changes nothing.
    await finance.getByRole("button", { name: "Check payout now" }).click();
    const check = finance.getByRole("dialog");
    await expectText(check, "Asks the integration where the payout of 49.00 USD stands now.");
    await check.getByRole("button", { name: "Cancel" }).click();
    await check.waitFor({ state: "detached" });
    await expectText(finance.locator("h2"), "Needs assistance");

    // The bank statement shows the money left: recorded as paid with its reference.
    await finance.getByRole("button", { name: "Mark as paid" }).click();
    const paid = finance.getByRole("dialog");
    await expectText(
      paid,
      "Record this only once 49.00 USD has been sent. 50.00 USD then leaves the client's wallet.",
    );
    await paid.getByRole("textbox", { name: "Payout reference" }).fill("BANK-STMT-7781");
    await paid.getByRole("button", { name: "Mark as paid" }).click();
    await paid.waitFor({ state: "detached" });
    await expectText(finance.locator("h2"), "Paid");
    await expectText(finance.getByTestId("payout-reference"), "BANK-STMT-7781");
    await expectText(
      finance.getByTestId("timeline"),
      "Paid out, reference BANK-STMT-7781, recorded by fay@payout.test.",
    );
    await expectText(finance.getByTestId("wallet-balance"), `${after} USD`);
    expect(await wallet()).toMatchObject({ balance: after, held: "0.00", available: after });
    // The backend's late answer changes nothing: the payout is paid once.
    await api5(payoutNo, "49.00", 1);
    expect(await wallet()).toMatchObject({ balance: after, held: "0.00", available: after });
    expect(backend.refused).toBe(0);
  });
});
