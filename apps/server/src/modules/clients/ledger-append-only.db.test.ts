import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../common/ids.js";
import * as migration0003 from "../../infra/db/migrations/0003-currency-exponent-and-ledger-delete.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertClient } from "../../test/payment-fixtures.js";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { findLedgerMismatches } from "./ledger.js";

// Ledger entries are append-only: the database itself refuses to rewrite or delete an
// entry (migrations 0002 and 0003, on both dialects), and no application code updates or deletes one.

let t: TestApp;
let tenantId: string;
let entryId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "appendonly",
    name: "Append Only",
    owner: { email: "owner@appendonly.test", name: "Owner", password: TEST_PASSWORD },
  }));
  const { clientId } = await insertClient(t.ctx, tenantId);
  ({ entryId } = await t.ctx.db.transaction().execute((trx) =>
    postLedgerEntry(trx, {
      tenantId,
      clientId,
      currency: "USD",
      amountMinor: 9_720n,
      kind: "deposit",
      depositId: newId(),
      memo: "deposit",
      now: t.ctx.clock.now(),
    }),
  ));
});
afterAll(async () => t?.close());

const entry = () =>
  t.ctx.db.selectFrom("ledger_entries").selectAll().where("id", "=", entryId).executeTakeFirstOrThrow();

describe("ledger entries are append-only", () => {
  it("the database refuses to update an entry, whatever the column", async () => {
    const before = await entry();
    for (const set of [
      { amount_minor: 1_000_000 },
      { memo: "rewritten" },
      { wallet_id: newId() },
      { kind: "adjustment" as const },
    ]) {
      await expect(
        t.ctx.db.updateTable("ledger_entries").set(set).where("id", "=", entryId).execute(),
      ).rejects.toThrow(/append-only/);
    }
    await expect(
      sql`update ledger_entries set amount_minor = amount_minor * 2`.execute(t.ctx.db),
    ).rejects.toThrow(/append-only/);
    expect(await entry()).toEqual(before);
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
  });

  it("the database refuses to delete an entry, one or all", async () => {
    const before = await entry();
    await expect(t.ctx.db.deleteFrom("ledger_entries").where("id", "=", entryId).execute()).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from ledger_entries`.execute(t.ctx.db)).rejects.toThrow(/append-only/);
    // Inside a transaction that also moves the balance back, the whole transaction fails.
    await expect(
      t.ctx.db.transaction().execute(async (trx) => {
        await trx
          .updateTable("wallets")
          .set({ balance_minor: 0 })
          .where("id", "=", before.wallet_id)
          .execute();
        await trx.deleteFrom("ledger_entries").where("wallet_id", "=", before.wallet_id).execute();
      }),
    ).rejects.toThrow(/append-only/);
    expect(await entry()).toEqual(before);
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
  });

  it("the refusal survives the migration's down and up again", async () => {
    await migration0003.down(t.ctx.db);
    await migration0003.up(t.ctx.db);
    await expect(t.ctx.db.deleteFrom("ledger_entries").where("id", "=", entryId).execute()).rejects.toThrow(
      /append-only/,
    );
    await expect(t.ctx.db.updateTable("ledger_entries").set({ memo: "x" }).execute()).rejects.toThrow(
      /append-only/,
    );
    expect(await entry()).toBeDefined();
  });

  it.runIf(process.env.PSPHUB_TEST_DB === "postgres")("PostgreSQL refuses TRUNCATE too", async () => {
    await expect(sql`truncate ledger_entries`.execute(t.ctx.db)).rejects.toThrow(/append-only/);
    expect(await entry()).toBeDefined();
  });

  it("appending still works, in the same transaction as the balance", async () => {
    const { clientId } = await insertClient(t.ctx, tenantId);
    await t.ctx.db.transaction().execute((trx) =>
      postLedgerEntry(trx, {
        tenantId,
        clientId,
        currency: "EUR",
        amountMinor: -50n,
        kind: "adjustment",
        depositId: null,
        now: t.ctx.clock.now(),
      }),
    );
    expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
  });

  it("no application code updates or deletes ledger entries (tests aside)", () => {
    const root = fileURLToPath(new URL("../../../../", import.meta.url)); // apps/
    const offenders: string[] = [];
    const rewritesLedger = (text: string) =>
      /(updateTable|deleteFrom)\(\s*["'`]ledger_entries/.test(text) ||
      /\b(update|delete\s+from|truncate)\s+(table\s+)?["`]?ledger_entries\b/i.test(text);
    // The scan recognises each way of writing it.
    for (const sample of [
      'db.updateTable("ledger_entries")',
      "trx.deleteFrom('ledger_entries')",
      "sql`UPDATE ledger_entries SET memo = ''`",
      'sql`delete from "ledger_entries"`',
      "sql`truncate table ledger_entries`",
    ])
      expect(rewritesLedger(sample), sample).toBe(true);
    expect(rewritesLedger('db.insertInto("ledger_entries")')).toBe(false);
    let scanned = 0;
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (!["node_modules", "dist", ".build"].includes(e.name)) walk(p);
        } else if (/\.(ts|tsx|mjs|js)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) {
          scanned++;
          if (rewritesLedger(readFileSync(p, "utf8"))) offenders.push(relative(root, p));
        }
      }
    };
    walk(root);
    expect(scanned).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });
});
