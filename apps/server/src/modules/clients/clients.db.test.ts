import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertIntegration, insertMethod } from "../../test/payment-fixtures.js";
import { createTestApp, loginClient, seedTenant, type TestApp } from "../../test/test-app.js";
import { createClient } from "./create-client.js";
import { currencyDecimals } from "./currency-decimals.js";

let t: TestApp;
let s: Awaited<ReturnType<typeof seedTenant>>;
beforeAll(async () => {
  t = await createTestApp();
  s = await seedTenant(t);
});
afterAll(async () => t?.close());

const credit = (tenantId: string, clientId: string, currency: string, amountMinor: bigint, memo?: string) =>
  t.ctx.db.transaction().execute((trx) =>
    postLedgerEntry(trx, {
      tenantId,
      clientId,
      currency,
      amountMinor,
      kind: "adjustment",
      depositId: null,
      memo: memo ?? null,
      now: t.ctx.clock.now(),
    }),
  );

describe("back-office clients", () => {
  it("creates a client with an 8-character id, normalising email, nationality and language", async () => {
    const res = await s.finance.post("/api/admin/clients", {
      name: "  Ada Lovelace ",
      email: "Ada@Example.COM",
      phone: "+44 20 7946 0000",
      nationality: "GB",
      language: "EN-GB",
      group: "vip",
      password: "portal password 1",
    });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toEqual({
      id: expect.stringMatching(/^[a-z0-9]{8}$/),
      name: "Ada Lovelace",
      email: "ada@example.com",
      phone: "+44 20 7946 0000",
      nationality: "gb",
      language: "en-gb",
      group: "vip",
      portalAccess: true,
      disabled: false,
      createdAt: expect.any(Number),
    });
    expect(res.body).not.toContain("password");
    const portal = await loginClient(t.app, s.slug, "ada@example.com", "portal password 1");
    expect((await portal.get("/api/portal/auth/me")).json().me.id).toBe(c.id);
  });

  it("refuses a duplicate email in the same tenant with 409 email_taken, but not in another tenant", async () => {
    const body = { name: "Dup", email: "dup@example.com" };
    expect((await s.owner.post("/api/admin/clients", body)).statusCode).toBe(201);
    const again = await s.owner.post("/api/admin/clients", { ...body, email: "DUP@example.com" });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("email_taken");
    const other = await seedTenant(t);
    expect((await other.owner.post("/api/admin/clients", body)).statusCode).toBe(201);
  });

  it("validates input with field paths", async () => {
    const res = await s.owner.post("/api/admin/clients", {
      name: "",
      email: "not-an-email",
      nationality: "usa",
      language: "english please",
      password: "short",
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json().error.issues.map((i: { path: string }) => i.path);
    for (const p of ["name", "email", "nationality", "language", "password"]) {
      expect(paths).toContain(`body.${p}`);
    }
  });

  it("lists with search on name, email and id, a group filter and paging", async () => {
    const t2 = await seedTenant(t);
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t2.owner.post("/api/admin/clients", {
        name: i === 2 ? "Grace_Hopper 100%" : `Client ${i}`,
        email: `c${i}@list.test`,
        group: i % 2 === 0 ? "even" : "odd",
      });
      made.push(r.json().id);
    }
    const all = (await t2.viewer.get("/api/admin/clients")).json();
    expect(all.total).toBe(5);
    // Newest first; clients made in the same millisecond by id, descending too (the list's
    // tie-break follows the sort's direction: list-order.ts).
    const createdAt = new Map<string, number>(
      all.items.map((c: { id: string; createdAt: number }) => [c.id, c.createdAt]),
    );
    const newestFirst = [...made].sort(
      (a, b) => createdAt.get(b)! - createdAt.get(a)! || (a < b ? 1 : a > b ? -1 : 0),
    );
    expect(all.items.map((c: { id: string }) => c.id)).toEqual(newestFirst);

    const byName = (await t2.viewer.get("/api/admin/clients?q=hopper")).json();
    expect(byName.items.map((c: { id: string }) => c.id)).toEqual([made[2]]);
    // `%` and `_` are literal: "_" does not match any character.
    expect((await t2.viewer.get("/api/admin/clients?q=100%25")).json().total).toBe(1);
    expect((await t2.viewer.get("/api/admin/clients?q=t_1")).json().total).toBe(0);
    expect((await t2.viewer.get("/api/admin/clients?q=t%201")).json().total).toBe(1);
    expect((await t2.viewer.get("/api/admin/clients?q=C3%40LIST")).json().items[0].id).toBe(made[3]);
    expect((await t2.viewer.get(`/api/admin/clients?q=${made[4]!.toUpperCase()}`)).json().total).toBe(1);

    const even = (await t2.viewer.get("/api/admin/clients?group=even&limit=2")).json();
    expect(even.total).toBe(3);
    expect(even.items).toHaveLength(2);
    const evenRest = (await t2.viewer.get("/api/admin/clients?group=even&limit=2&offset=2")).json();
    expect(evenRest.items).toHaveLength(1);
    expect((await t2.viewer.get("/api/admin/clients?limit=101")).statusCode).toBe(400);
    // Another tenant's clients are not listed.
    expect((await s.viewer.get("/api/admin/clients?q=list.test")).json().total).toBe(0);
  });

  it("shows a client with wallets in decimal text, using the methods' exponent, ISO, else 2", async () => {
    const t3 = await seedTenant(t);
    const { integrationId } = await insertIntegration(t.ctx, t3.tenantId);
    await insertMethod(t.ctx, t3.tenantId, integrationId, {
      currencies: [
        {
          code: "USDT",
          decimals: 6,
          minMinor: 1n,
          maxMinor: 10n ** 12n,
          feePercentBps: 0,
          feeFixedMinor: 0n,
          feeMaxMinor: null,
        },
      ],
    });
    const id = (await t3.owner.post("/api/admin/clients", { name: "W", email: "w@w.test" })).json().id;
    await credit(t3.tenantId, id, "USD", 16_248n);
    await credit(t3.tenantId, id, "JPY", 500n);
    await credit(t3.tenantId, id, "USDT", 1_500_000n);
    await credit(t3.tenantId, id, "XYZ", 7n);
    await credit(t3.tenantId, id, "KWD", -1_234n);
    const res = await t3.viewer.get(`/api/admin/clients/${id}`);
    expect(res.statusCode).toBe(200);
    const wallets = Object.fromEntries(
      res
        .json()
        .wallets.map((w: { currency: string; balance: string; balanceMinor: string }) => [
          w.currency,
          [w.balance, w.balanceMinor],
        ]),
    );
    expect(wallets).toEqual({
      USD: ["162.48", "16248"],
      JPY: ["500", "500"],
      USDT: ["1.500000", "1500000"],
      XYZ: ["0.07", "7"],
      KWD: ["-1.234", "-1234"],
    });
    expect(await currencyDecimals(t.ctx.db, t3.tenantId, "USDT")).toBe(6);
    // Another tenant has no such method: USDT falls back to 2.
    expect(await currencyDecimals(t.ctx.db, s.tenantId, "USDT")).toBe(2);
  });

  it("answers 404 for an unknown client and for another tenant's", async () => {
    const other = await seedTenant(t);
    const id = (await other.owner.post("/api/admin/clients", { name: "X", email: "x@x.test" })).json().id;
    for (const url of [
      `/api/admin/clients/${id}`,
      `/api/admin/clients/${id}/ledger`,
      "/api/admin/clients/zzzzzzzz",
    ]) {
      const res = await s.owner.get(url);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe("not_found");
    }
    expect((await s.owner.patch(`/api/admin/clients/${id}`, { name: "Mallory" })).statusCode).toBe(404);
    expect((await other.owner.get(`/api/admin/clients/${id}`)).json().name).toBe("X");
  });

  it("edits a client's details, clears fields with null, and audits before and after", async () => {
    const c = (
      await s.owner.post("/api/admin/clients", {
        name: "Edit Me",
        email: "edit@example.com",
        phone: "+1 555 0100",
        password: "first password 1",
      })
    ).json();
    const portal = await loginClient(t.app, s.slug, "edit@example.com", "first password 1");
    const res = await s.finance.patch(`/api/admin/clients/${c.id}`, {
      name: "Edited",
      email: "Edited@Example.com",
      phone: null,
      nationality: "DE",
      language: "de",
      group: "gold",
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      name: "Edited",
      email: "edited@example.com",
      phone: null,
      nationality: "de",
      language: "de",
      group: "gold",
      portalAccess: true,
      disabled: false,
    });
    // Details are not credentials: the portal session goes on, and the new email logs in.
    expect((await portal.get("/api/portal/auth/me")).statusCode).toBe(200);
    await loginClient(t.app, s.slug, "edited@example.com", "first password 1");

    const audit = await t.ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("tenant_id", "=", s.tenantId)
      .where("target_id", "=", c.id)
      .orderBy("created_at")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["client.create", "client.update"]);
    const update = audit[1]!;
    expect(update.actor_id).toBe(s.finance.me.id);
    expect(JSON.parse(update.before!)).toEqual({
      name: "Edit Me",
      email: "edit@example.com",
      phone: "+1 555 0100",
      nationality: null,
      language: null,
      group: null,
      portalAccess: true,
      disabled: false,
    });
    expect(JSON.parse(update.after!)).toEqual({
      name: "Edited",
      email: "edited@example.com",
      phone: null,
      nationality: "de",
      language: "de",
      group: "gold",
      portalAccess: true,
      disabled: false,
    });

    // The same values again change nothing and write no record.
    expect(
      (await s.finance.patch(`/api/admin/clients/${c.id}`, { name: "Edited", group: "gold" })).statusCode,
    ).toBe(200);
    const after = await t.ctx.db.selectFrom("audit_log").select("id").where("target_id", "=", c.id).execute();
    expect(after).toHaveLength(2);
  });

  it("refuses another client's email (409 email_taken) and a password in an edit (400)", async () => {
    const a = (await s.owner.post("/api/admin/clients", { name: "A", email: "a-mail@example.com" })).json();
    await s.owner.post("/api/admin/clients", { name: "B", email: "b-mail@example.com" });
    const taken = await s.owner.patch(`/api/admin/clients/${a.id}`, { email: "B-mail@example.com" });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("email_taken");
    // The password has its own route (clients:access); an edit with one is refused, not ignored.
    const withPassword = await s.owner.patch(`/api/admin/clients/${a.id}`, { password: "a new password 1" });
    expect(withPassword.statusCode).toBe(400);
    expect((await s.owner.get(`/api/admin/clients/${a.id}`)).json().email).toBe("a-mail@example.com");
  });

  it("needs clients:write to create or edit, and clients:read to see", async () => {
    const res = await s.viewer.post("/api/admin/clients", { name: "No", email: "no@example.com" });
    expect(res.statusCode).toBe(403);
    expect((await t.app.inject({ method: "GET", url: "/api/admin/clients" })).statusCode).toBe(401);
  });

  it("pages a client's ledger newest first, with amounts in decimal text", async () => {
    const id = (await s.owner.post("/api/admin/clients", { name: "L", email: "ledger@example.com" })).json()
      .id;
    await credit(s.tenantId, id, "USD", 1_000n, "first");
    await credit(s.tenantId, id, "EUR", 250n, "second");
    await credit(s.tenantId, id, "USD", -1n, "third");
    const page = (await s.viewer.get(`/api/admin/clients/${id}/ledger?limit=2`)).json();
    expect(page.total).toBe(3);
    expect(page.items).toHaveLength(2);
    const all = (await s.viewer.get(`/api/admin/clients/${id}/ledger`)).json().items;
    const byMemo = Object.fromEntries(all.map((e: { memo: string }) => [e.memo, e]));
    expect(byMemo.first).toMatchObject({
      currency: "USD",
      amount: "10.00",
      kind: "adjustment",
      depositId: null,
    });
    expect(byMemo.third.amount).toBe("-0.01");
    const times = all.map((e: { createdAt: number }) => e.createdAt);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const rest = (await s.viewer.get(`/api/admin/clients/${id}/ledger?limit=2&offset=2`)).json().items;
    expect(rest).toHaveLength(1);
    expect(new Set([...page.items, ...rest].map((e: { id: string }) => e.id)).size).toBe(3);
  });

  it("checks the ledger invariant for the tenant", async () => {
    const res = await s.viewer.get("/api/admin/ledger/check");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, mismatches: [], exponentMismatches: [] });
    const id = (await s.owner.post("/api/admin/clients", { name: "D", email: "drift@example.com" })).json()
      .id;
    const { walletId } = await credit(s.tenantId, id, "USD", 100n);
    await t.ctx.db.updateTable("wallets").set({ balance_minor: 99 }).where("id", "=", walletId).execute();
    expect((await s.viewer.get("/api/admin/ledger/check")).json()).toEqual({
      ok: false,
      mismatches: [
        { walletId, balanceMinor: "99", ledgerSumMinor: "100", heldMinor: "0", holdSumMinor: "0" },
      ],
      exponentMismatches: [],
    });
    await t.ctx.db.updateTable("wallets").set({ balance_minor: 100 }).where("id", "=", walletId).execute();
  });
});

describe("portal wallets and ledger", () => {
  it("shows the logged-in client its own wallets and entries only", async () => {
    const mine = await createClient(
      t.ctx,
      s.tenantId,
      { name: "Me", email: "me@portal.test", password: "portal password 1" },
      { type: "system", id: null },
    );
    const theirs = await createClient(
      t.ctx,
      s.tenantId,
      { name: "Them", email: "them@portal.test", password: "portal password 2" },
      { type: "system", id: null },
    );
    await credit(s.tenantId, mine.id, "USD", 16_248n, "mine");
    await credit(s.tenantId, theirs.id, "USD", 99n, "theirs");
    const portal = await loginClient(t.app, s.slug, "me@portal.test", "portal password 1");
    const wallets = await portal.get("/api/portal/wallets");
    expect(wallets.statusCode).toBe(200);
    expect(wallets.json()).toEqual({
      items: [
        { currency: "USD", balance: "162.48", balanceMinor: "16248", held: "0.00", available: "162.48" },
      ],
    });
    const ledger = (await portal.get("/api/portal/ledger")).json();
    expect(ledger.total).toBe(1);
    expect(ledger.items[0]).toMatchObject({ memo: "mine", amount: "162.48", currency: "USD" });
    // A staff cookie is not a portal session.
    expect((await s.owner.get("/api/portal/wallets")).statusCode).toBe(401);
  });
});
