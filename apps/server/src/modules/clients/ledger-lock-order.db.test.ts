import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTransaction } from "../../infra/db/database.js";
import { isTransientConflict, runWrites } from "../../infra/db/write-batch.js";
import { untilSomeoneWaitsOnALock } from "../../test/lock-waits.js";
import { insertClient } from "../../test/payment-fixtures.js";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { createTenant } from "../tenants/create-tenant.js";
import { findLedgerMismatches, isWalletCreationRace, ledgerWrites, type PlannedPosting } from "./ledger.js";

// Two transactions creating the same clients' first wallets must not deadlock. A new wallet's
// planned id differs from one transaction to the other, so locking wallets in id order could lock
// them in opposite orders; they are locked in (client, currency) order, the key the upsert
// conflicts on. PostgreSQL only: SQLite has one writer and takes no row locks.

let t: TestApp;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "lock-order",
    name: "Lock Order Ltd",
    owner: { email: "owner@lock-order.test", name: "Owner", password: TEST_PASSWORD },
  }));
});
afterAll(async () => t?.close());

const posting = (clientId: string, walletId: string): PlannedPosting => ({
  tenantId,
  clientId,
  currency: "USD",
  amountMinor: 100n,
  kind: "adjustment",
  depositId: null,
  now: t.ctx.clock.now(),
  walletId,
  entryId: `e-${walletId}`,
});

describe("wallet lock order", () => {
  it.skipIf(testDbKind() !== "postgres")(
    "two transactions creating the same two new wallets never deadlock, whatever ids they planned",
    async () => {
      const [c1, c2] = [
        (await insertClient(t.ctx, tenantId)).clientId,
        (await insertClient(t.ctx, tenantId)).clientId,
      ].sort();
      const { db } = t.ctx;
      let second: Promise<unknown> | undefined;
      const first = writeTransaction(db, async (trx) => {
        // The first transaction creates c1's wallet and keeps it locked...
        await runWrites(trx, ledgerWrites(trx, [posting(c1!, "w-first-1")]));
        // ...while the second posts to both clients' wallets, having planned c2's id below c1's.
        second = writeTransaction(db, (trx2) =>
          runWrites(trx2, ledgerWrites(trx2, [posting(c1!, "w-second-b"), posting(c2!, "w-second-a")])),
        ).then(
          () => null,
          (err: unknown) => err,
        );
        await untilSomeoneWaitsOnALock(t.ctx, "the second transaction waiting on the first");
        // Then the first creates c2's wallet: in id order the second would hold it already.
        await runWrites(trx, ledgerWrites(trx, [posting(c2!, "w-first-2")]));
      }).then(
        () => null,
        (err: unknown) => err,
      );
      const [firstErr, secondErr] = await Promise.all([first, first.then(() => second)]);

      // Neither was chosen as a deadlock's victim: the first committed both wallets, and the
      // second lost the wallet race its caller reads again for (it planned both as new).
      expect({ first: firstErr, deadlock: isTransientConflict(secondErr) }).toEqual({
        first: null,
        deadlock: false,
      });
      expect(isWalletCreationRace(secondErr)).toBe(true);
      const wallets = await db
        .selectFrom("wallets")
        .select(["id", "client_id"])
        .where("client_id", "in", [c1!, c2!])
        .orderBy("client_id")
        .execute();
      expect(wallets).toEqual([
        { id: "w-first-1", client_id: c1 },
        { id: "w-first-2", client_id: c2 },
      ]);
      expect(await findLedgerMismatches(db, tenantId)).toEqual([]);
    },
  );
});
