import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api1Stub, startApi1Stub } from "../../test/api1-stub.js";
import { createTestApp, loginClient, type Session, seedTenant, type TestApp } from "../../test/test-app.js";

// Deposit methods (docs/psp-open-api.md#deposit-methods) end to end through the admin API only:
// what an admin sets on a method is what a client's deposit gets. The TTL of pending orders is the
// method's own (and follows an edit), and a custom parameter added to the integration after the
// method was made shows up on the portal form under the method's label and reaches API-1 under its
// key.

let t: TestApp;
let stub: Api1Stub;
let owner: Session;
let portal: Session;
let integrationId: string;
let methodId: string;

const T0 = Date.UTC(2025, 2, 1, 9, 0, 0);
let now = T0;
const clock = { now: () => now };

beforeAll(async () => {
  stub = await startApi1Stub();
  t = await createTestApp({ clock, configOverrides: { allowPrivateAppUrls: true } });
  const s = await seedTenant(t);
  owner = s.owner;
  const integ = await owner.post("/api/admin/integrations", { name: "PSP", appUrl: stub.url });
  expect(integ.statusCode, integ.body).toBe(201);
  integrationId = integ.json().id;
  stub.token = (await owner.post(`/api/admin/integrations/${integrationId}/reveal`)).json().token;
  const method = await owner.post("/api/admin/deposit-methods", {
    name: "Card",
    integrationId,
    currencies: [{ code: "USD", min: "1.00", max: "1000.00" }],
    orderTtlSeconds: 600,
  });
  expect(method.statusCode, method.body).toBe(201);
  methodId = method.json().id;
  const client = await owner.post("/api/admin/clients", {
    name: "Cleo",
    email: "cleo@method.test",
    password: "cleo portal pass 1",
  });
  expect(client.statusCode, client.body).toBe(201);
  portal = await loginClient(t.app, s.slug, "cleo@method.test", "cleo portal pass 1");
});
afterAll(async () => {
  await t?.close();
  await stub?.close();
});

async function deposit(fields?: Record<string, string>) {
  const res = await portal.post("/api/portal/deposits", {
    methodId,
    currency: "USD",
    amount: "10.00",
    ...(fields ? { fields } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  return t.ctx.db
    .selectFrom("deposits")
    .select(["created_at", "expires_at"])
    .where("order_no", "=", res.json().orderNo)
    .executeTakeFirstOrThrow();
}

describe("a deposit method's settings reach the client's deposit", () => {
  it("pending orders expire after the method's TTL, and after the new one once edited", async () => {
    const first = await deposit();
    expect(first.expires_at - first.created_at).toBe(600_000);
    now += 1_000;
    expect(
      (await owner.patch(`/api/admin/deposit-methods/${methodId}`, { orderTtlSeconds: 7_200 })).statusCode,
    ).toBe(200);
    const second = await deposit();
    expect(second.expires_at - second.created_at).toBe(7_200_000);
  });

  it("a custom parameter added later becomes a field under the method's label, sent under its key", async () => {
    const before = (await portal.get("/api/portal/deposit-methods")).json().items[0];
    expect(before.fields).toEqual([]);

    const up = await owner.patch(`/api/admin/integrations/${integrationId}`, {
      customParams: [
        { label: "Bank account", type: "text", required: true },
        { label: "Contact mail", type: "email", required: false },
      ],
    });
    expect(up.statusCode, up.body).toBe(200);
    const relabel = await owner.patch(`/api/admin/deposit-methods/${methodId}`, {
      fieldLabels: { custom_1: "IBAN" },
    });
    expect(relabel.statusCode, relabel.body).toBe(200);

    const after = (await portal.get("/api/portal/deposit-methods")).json().items[0];
    expect(after.fields).toEqual([
      { key: "custom_1", label: "IBAN", type: "text", required: true, options: [] },
      { key: "custom_2", label: "Contact mail", type: "email", required: false, options: [] },
    ]);

    // Required, so a deposit without it is refused on that field's path.
    const missing = await portal.post("/api/portal/deposits", { methodId, currency: "USD", amount: "10.00" });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.issues.map((i: { path: string }) => i.path)).toContain("fields.custom_1");

    await deposit({ custom_1: "DE89 3704 0044 0532 0130 00", custom_2: "cleo@bank.test" });
    const sent = stub.requests.at(-1)!;
    expect(sent.signOk).toBe(true);
    expect(sent.json).toMatchObject({ custom_1: "DE89 3704 0044 0532 0130 00", custom_2: "cleo@bank.test" });
    expect(sent.json).not.toHaveProperty("IBAN");
  });
});
