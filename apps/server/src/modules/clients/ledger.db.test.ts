import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../common/ids.js";
import { isUniqueViolation, toBigInt } from "../../infra/db/database.js";
import { ensureWallet, postLedgerEntry } from "../../test/ledger-postings.js";
import { insertClient } from "../../test/payment-fixtures.js";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { findLedgerMismatches } from "./ledger.js";

let t: TestApp;
let tenantId: string;
let clientIds: string[];

beforeAll(async () => {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "ledger",
    name: "Ledger Ltd",
    owner: { email: "owner@ledger.test", name: "Owner", password: TEST_PASSWORD },
  }));
  clientIds = [];
  for (let i = 0; i < 3; i++) clientIds.push((await insertClient(t.ctx, tenantId)).clientId);
});
afterAll(async () => t?.close());

async function balanceOf(clientId: string, currency: string): Promise<bigint> {
  const w = await t.ctx.db
    .selectFrom("wallets")
    .select("balance_minor")
    .where("tenant_id", "=", tenantId)
    .where("client_id", "=", clientId)
    .where("currency", "=", currency)
    .executeTakeFirst();
  return w ? toBigInt(w.balance_minor) : 0n;
}

async function ledgerSum(clientId: string, currency: string): Promise<bigint> {
  const r = await t.ctx.db
    .selectFrom("ledger_entries as e")
    .innerJoin("wallets as w", "w.id", "e.wallet_id")
    .select((eb) => eb.fn.sum<string | number>("e.amount_minor").as("s"))
    .where("w.client_id", "=", clientId)
    .where("w.currency", "=", currency)
    .executeTakeFirst();
  return toBigInt(r?.s);
}

const CURRENCIES = ["USD", "EUR", "USDT"] as const;

describe("ledger posting", () => {
  it("keeps every wallet balance equal to the sum of its entries over any sequence of postings", async () => {
    const posting = fc.record({
      client: fc.integer({ min: 0, max: 2 }),
      currency: fc.constantFrom(...CURRENCIES),
      kind: fc.constantFrom("deposit" as const, "adjustment" as const),
      // Deposits credit; adjustments may go either way.
      amount: fc.bigInt({ min: -1_000_000_000n, max: 1_000_000_000_000n }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(posting, { minLength: 1, maxLength: 15 }), async (seq) => {
        const expected = new Map<string, bigint>();
        for (const c of clientIds)
          for (const cur of CURRENCIES) expected.set(`${c}/${cur}`, await balanceOf(c, cur));
        for (const p of seq) {
          const clientId = clientIds[p.client]!;
          const amountMinor = p.kind === "deposit" && p.amount < 0n ? -p.amount : p.amount;
          await t.ctx.db.transaction().execute((trx) =>
            postLedgerEntry(trx, {
              tenantId,
              clientId,
              currency: p.currency,
              amountMinor,
              kind: p.kind,
              depositId: p.kind === "deposit" ? newId() : null,
              now: t.ctx.clock.now(),
            }),
          );
          const key = `${clientId}/${p.currency}`;
          expected.set(key, (expected.get(key) ?? 0n) + amountMinor);
        }
        expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
        expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
        for (const c of clientIds) {
          for (const cur of CURRENCIES) {
            const balance = await balanceOf(c, cur);
            expect(balance).toBe(expected.get(`${c}/${cur}`));
            expect(balance).toBe(await ledgerSum(c, cur));
          }
        }
      }),
      { numRuns: 25 },
    );
  });

  it("refuses a second deposit entry for the same deposit and leaves the balance unchanged", async () => {
    const clientId = clientIds[0]!;
    const depositId = newId();
    const post = (amountMinor: bigint) =>
      t.ctx.db.transaction().execute((trx) =>
        postLedgerEntry(trx, {
          tenantId,
          clientId,
          currency: "EUR",
          amountMinor,
          kind: "deposit",
          depositId,
          memo: "credit",
          now: t.ctx.clock.now(),
        }),
      );
    await post(12_345n);
    const after = await balanceOf(clientId, "EUR");
    await expect(post(12_345n)).rejects.toThrow();
    await expect(post(1n)).rejects.toThrow();
    expect(await balanceOf(clientId, "EUR")).toBe(after);
    const credits = await t.ctx.db
      .selectFrom("ledger_entries")
      .select("id")
      .where("deposit_id", "=", depositId)
      .execute();
    expect(credits).toHaveLength(1);
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
  });

  it("reports a wallet whose cached balance drifted from its entries", async () => {
    const clientId = clientIds[1]!;
    const { walletId } = await t.ctx.db.transaction().execute((trx) =>
      postLedgerEntry(trx, {
        tenantId,
        clientId,
        currency: "GBP",
        amountMinor: 500n,
        kind: "adjustment",
        depositId: null,
        now: t.ctx.clock.now(),
      }),
    );
    await t.ctx.db.updateTable("wallets").set({ balance_minor: 501 }).where("id", "=", walletId).execute();
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([
      { walletId, balanceMinor: 501n, ledgerSumMinor: 500n, heldMinor: 0n, holdSumMinor: 0n },
    ]);
    await t.ctx.db.updateTable("wallets").set({ balance_minor: 500 }).where("id", "=", walletId).execute();
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
  });

  it("keeps one wallet per client and currency", async () => {
    const clientId = clientIds[2]!;
    const post = (currency: string) =>
      t.ctx.db.transaction().execute((trx) =>
        postLedgerEntry(trx, {
          tenantId,
          clientId,
          currency,
          amountMinor: 100n,
          kind: "adjustment",
          depositId: null,
          now: t.ctx.clock.now(),
        }),
      );
    const ids = [(await post("CHF")).walletId, (await post("CHF")).walletId];
    expect(new Set(ids).size).toBe(1);
    expect((await post("JPY")).walletId).not.toBe(ids[0]);
    // The database itself refuses a second one.
    const second = t.ctx.db
      .insertInto("wallets")
      .values({
        id: newId(),
        tenant_id: tenantId,
        client_id: clientId,
        currency: "CHF",
        balance_minor: 0,
        held_minor: 0,
        created_at: 1,
      })
      .execute();
    await expect(second).rejects.toSatisfy(isUniqueViolation);
    const rows = await t.ctx.db
      .selectFrom("wallets")
      .select("currency")
      .where("client_id", "=", clientId)
      .orderBy("currency")
      .execute();
    expect(rows.map((r) => r.currency)).toEqual([...new Set(rows.map((r) => r.currency))]);
  });
});

describe("ledger posting across tenants", () => {
  it("never moves another tenant's wallet: the posting fails and the balance stays", async () => {
    const { tenantId: otherTenant } = await createTenant(t.ctx, {
      slug: "ledger-other",
      name: "Other Ltd",
      owner: { email: "owner@ledger-other.test", name: "Owner", password: TEST_PASSWORD },
    });
    const clientId = clientIds[1]!;
    await ensureWallet(t.ctx.db, { tenantId, clientId, currency: "EUR", now: t.ctx.clock.now() });
    const before = await balanceOf(clientId, "EUR");
    await expect(
      t.ctx.db.transaction().execute((trx) =>
        postLedgerEntry(trx, {
          tenantId: otherTenant,
          clientId,
          currency: "EUR",
          amountMinor: 500n,
          kind: "adjustment",
          depositId: null,
          now: t.ctx.clock.now(),
        }),
      ),
    ).rejects.toThrow();
    expect(await balanceOf(clientId, "EUR")).toBe(before);
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
  });
});
