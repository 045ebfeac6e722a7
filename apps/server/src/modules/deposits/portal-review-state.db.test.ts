import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertDeposit, sendSignedCallback, type TestDeposit } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { paymentInvariantsAfterEach } from "../../test/payment-invariants.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";

// The portal tells the client when a payment it made is being checked (an open review item),
// in its own words: no internal reason, no payment page, no cancel, until an admin decides.

let t: TestApp;
let tenant: Awaited<ReturnType<typeof seedTenant>>;
let other: Awaited<ReturnType<typeof seedTenant>>;
let fx: PaymentFixture;
let otherFx: PaymentFixture;
let client: Session;
let otherClient: Session;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await seedTenant(t, "held-a");
  other = await seedTenant(t, "held-b");
  fx = await insertPaymentSetup(t.ctx, tenant.tenantId);
  otherFx = await insertPaymentSetup(t.ctx, other.tenantId);
  client = await loginClient(t.app, tenant.slug, fx.clientEmail, fx.clientPassword);
  otherClient = await loginClient(t.app, other.slug, otherFx.clientEmail, otherFx.clientPassword);
  base = await t.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => t?.close());
paymentInvariantsAfterEach(() => t?.ctx);

const view = async (dep: TestDeposit, s = client) => {
  const res = await s.get(`/api/portal/deposits/${dep.orderNo}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const listed = async (dep: TestDeposit) =>
  ((await client.get("/api/portal/deposits?limit=100")).json().items as { orderNo: string }[]).find(
    (d) => d.orderNo === dep.orderNo,
  );
const openItem = async (dep: TestDeposit) =>
  (
    await t.ctx.db
      .selectFrom("review_items")
      .select("id")
      .where("deposit_id", "=", dep.id)
      .where("status", "=", "open")
      .executeTakeFirstOrThrow()
  ).id;
const resolve = (id: string, action: "credit" | "dismiss") =>
  tenant.admin.post(`/api/admin/review/${id}/resolve`, { action, comment: "checked with the PSP" });

describe("a payment held for review, as the portal shows it", () => {
  it("cancelled, then paid: 'being checked', not 'cancelled'; credited by an admin: succeeded", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    expect((await client.post(`/api/portal/deposits/${dep.orderNo}/cancel`)).statusCode).toBe(200);
    expect(await view(dep)).toMatchObject({ status: "cancelled", underReview: false });

    const cb = await sendSignedCallback(t.app, fx, dep);
    expect(cb.json().type).toBe("payment_status_not_pending");
    const held = await view(dep);
    expect(held).toMatchObject({ status: "cancelled", underReview: true, paymentUrl: null, failure: null });
    // The client's own words only: nothing of the admin's reason.
    expect(JSON.stringify(held)).not.toMatch(/late_success|payment_status|review_item/);
    expect(await listed(dep)).toMatchObject({ status: "cancelled", underReview: true });

    // Another tenant's client never sees it, held or not.
    expect((await otherClient.get(`/api/portal/deposits/${dep.orderNo}`)).statusCode).toBe(404);

    expect((await resolve(await openItem(dep), "credit")).statusCode).toBe(200);
    expect(await view(dep)).toMatchObject({ status: "succeeded", underReview: false, credit: "97.20" });
  });

  it("another amount paid: held, no payment page, and the client cannot cancel until it is decided", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const cb = await sendSignedCallback(t.app, fx, dep, { amount: { literal: "90.00" } });
    expect(cb.json().type).toBe("payment_amount_not_allowed");
    expect(await view(dep)).toMatchObject({ status: "pending", underReview: true, paymentUrl: null });

    const refused = await client.post(`/api/portal/deposits/${dep.orderNo}/cancel`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe("deposit_under_review");
    expect(await view(dep)).toMatchObject({ status: "pending", underReview: true });

    // Dismissed by an admin: the order is open again, with its payment page, and may be cancelled.
    expect((await resolve(await openItem(dep), "dismiss")).statusCode).toBe(200);
    expect(await view(dep)).toMatchObject({
      status: "pending",
      underReview: false,
      paymentUrl: "https://psp.example.com/pay/x",
    });
    expect((await client.post(`/api/portal/deposits/${dep.orderNo}/cancel`)).statusCode).toBe(200);
  });

  it("a held failure report is no payment: the client is not told one is being checked", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    expect((await sendSignedCallback(t.app, fx, dep)).statusCode).toBe(204);
    const cb = await sendSignedCallback(t.app, fx, dep, { status: 0 });
    expect(cb.json().type).toBe("payment_status_not_pending");
    await openItem(dep); // kept for the admin
    expect(await view(dep)).toMatchObject({ status: "succeeded", underReview: false });
  });

  it("staff may still cancel an order whose payment is being checked (they do the checking)", async () => {
    const dep = await insertDeposit(t.ctx, fx);
    await sendSignedCallback(t.app, fx, dep, { amount: { literal: "90.00" } });
    const res = await tenant.admin.post(`/api/admin/deposits/${dep.id}/cancel`, { comment: "client asked" });
    expect(res.statusCode, res.body).toBe(200);
    await resolve(await openItem(dep), "dismiss");
  });

  it("the live stream keeps watching a cancelled order and delivers the held payment, then the credit", {
    timeout: 20_000,
  }, async () => {
    const dep = await insertDeposit(t.ctx, fx);
    const ac = new AbortController();
    const res = await fetch(`${base}/api/portal/deposits/${dep.orderNo}/events`, {
      headers: { cookie: client.cookie },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const statuses = () =>
      [...text.matchAll(/event: status\ndata: (.*)\n/g)].map(
        (m) => JSON.parse(m[1]!) as Record<string, unknown>,
      );
    const until = async (done: () => boolean) => {
      while (!done()) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(chunk.value);
      }
    };
    try {
      await until(() => statuses().length > 0);
      await client.post(`/api/portal/deposits/${dep.orderNo}/cancel`);
      await until(() => statuses().some((s) => s.status === "cancelled"));
      await sendSignedCallback(t.app, fx, dep);
      await until(() => statuses().some((s) => s.underReview === true));
      expect(text).not.toContain("event: end");
      await resolve(await openItem(dep), "credit");
      await until(() => text.includes("event: end"));
      expect(statuses().at(-1)).toMatchObject({ status: "succeeded", underReview: false });
      expect(text.trim().split("\n\n").at(-1)).toBe('event: end\ndata: {"reason":"final"}');
    } finally {
      ac.abort();
    }
  });
});
