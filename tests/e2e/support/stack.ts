import type { AddressInfo } from "node:net";
import { createTenant, createUser } from "../../../apps/server/src/modules/tenants/create-tenant.js";
import {
  createTestApp,
  loginStaff,
  TEST_PASSWORD,
  type TestApp,
} from "../../../apps/server/src/test/test-app.js";
import { type StubPsp, startStubPsp } from "./stub-psp.js";

/**
 * Everything a browser test needs: the real server (fresh database, in this process,
 * listening on loopback and serving the built web apps), a tenant with an owner and a viewer,
 * and a stub tenant backend on loopback.
 */
export interface Stack {
  baseUrl: string;
  app: TestApp;
  stub: StubPsp;
  tenant: { id: string; slug: string; name: string };
  owner: { email: string; password: string };
  viewer: { email: string; password: string };
  close(): Promise<void>;
}

export async function startStack(slug = "acme"): Promise<Stack> {
  const stub = await startStubPsp();
  const app = await createTestApp({
    configOverrides: { allowPrivateAppUrls: true, allowHttpPaymentUrls: true },
    // Plain http on loopback: session cookies without the Secure flag.
    env: { COOKIE_SECURE: "false" },
  });
  await app.app.listen({ port: 0, host: "127.0.0.1" });
  const baseUrl = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
  stub.setCrmUrl(baseUrl);

  const name = "Acme Brokers";
  const owner = { email: `owner@${slug}.test`, password: TEST_PASSWORD };
  const viewer = { email: `viewer@${slug}.test`, password: TEST_PASSWORD };
  const { tenantId } = await createTenant(app.ctx, {
    slug,
    name,
    owner: { email: owner.email, name: "Olivia Owner", password: owner.password },
  });
  await createUser(app.ctx, tenantId, {
    email: viewer.email,
    name: "Victor Viewer",
    password: viewer.password,
    role: "viewer",
  });

  return {
    baseUrl,
    app,
    stub,
    tenant: { id: tenantId, slug, name },
    owner,
    viewer,
    async close() {
      await stub.close();
      await app.close();
    },
  };
}

/** The created object's id of a set-up call through the API; throws with `what` when it failed. */
export function ok(res: { statusCode: number; body: string }, what: string): { id: string } {
  if (res.statusCode >= 300) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as { id: string };
}

/**
 * The setup the whole-story test makes through the UI, made through the API instead (for the
 * negative-path tests): the stub integration with a required custom parameter, a "Card" method
 * relabelling it, and a client with portal access.
 */
export async function seedPaymentSetup(stack: Stack) {
  const owner = await loginStaff(stack.app.app, stack.owner.email, stack.owner.password);
  const integration = ok(
    await owner.post("/api/admin/integrations", {
      name: "Stub PSP",
      appUrl: stack.stub.url,
      customParams: [{ label: "Card holder", type: "text", required: true }],
    }),
    "create integration",
  );
  const method = ok(
    await owner.post("/api/admin/deposit-methods", {
      name: "Card",
      integrationId: integration.id,
      currencies: [
        { code: "USD", min: "10.00", max: "5000.00", feePercent: "2.5", feeFixed: "0.30", feeMax: "20.00" },
      ],
      fieldLabels: { custom_1: "Name on card" },
    }),
    "create method",
  );
  const client = { name: "Jane Client", email: "jane@example.com", password: "client password 1" };
  ok(await owner.post("/api/admin/clients", client), "create client");
  return { integrationId: integration.id, methodId: method.id, client };
}
