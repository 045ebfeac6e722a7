import { afterEach, expect } from "vitest";
import type { AppContext } from "../app-context.js";
import { type Db, dialectOf } from "../infra/db/database.js";
import type { DepositStatus } from "../infra/db/schema.js";
import { canResolveLate, canTransition } from "../modules/deposits/deposit-state.js";
import { expectLedgerInvariant } from "./callback-client.js";

/**
 * The money and state invariants every payment test must leave behind: the ledger invariant
 * holds after every test. Register it once per test file with {@link paymentInvariantsAfterEach};
 * it runs after EVERY test of that file.
 *
 * On top of `expectLedgerInvariant` (balance = sum of entries; at most one deposit credit per
 * deposit, only for a succeeded one, of exactly its credit), it checks what the timeline says
 * happened against what the ledger holds:
 * - a deposit that the application moved to `succeeded` (a `status_change` to succeeded on its
 *   timeline) has exactly one deposit credit, and moved there once;
 * - every `ledger` event of a timeline names a real deposit entry of that deposit;
 * - a deposit's `status_change` events form one chain of transitions the state machine allows
 *   (or a human late credit from a review), and the last one is the deposit's current status.
 *
 * Deposits that a test inserted in a final status directly (fixtures) have no such events and are
 * only held to the ledger rules.
 */
export async function expectPaymentInvariants(ctx: Pick<AppContext, "db">): Promise<void> {
  // One snapshot for every query, so a callback committing meanwhile cannot fake a mismatch.
  const tx = ctx.db.transaction();
  await (dialectOf(ctx.db) === "postgres" ? tx.setIsolationLevel("repeatable read") : tx).execute((db) =>
    check(db),
  );
}

async function check(db: Db): Promise<void> {
  await expectLedgerInvariant({ db });

  const deposits = await db.selectFrom("deposits").select(["id", "status"]).execute();
  const statusOf = new Map<string, DepositStatus>(deposits.map((d) => [d.id, d.status]));
  const events = await db
    .selectFrom("deposit_events")
    .select(["id", "deposit_id", "kind", "data"])
    .where("kind", "in", ["status_change", "ledger"])
    // Event ids are time-ordered (deposit-repo's newEventId): insertion order, whatever the clock.
    .orderBy("id")
    .execute();
  const credits = await db
    .selectFrom("ledger_entries")
    .select(["id", "deposit_id"])
    .where("kind", "=", "deposit")
    .execute();
  const creditsOf = new Map<string, string[]>();
  for (const c of credits) {
    if (c.deposit_id === null) continue;
    creditsOf.set(c.deposit_id, [...(creditsOf.get(c.deposit_id) ?? []), c.id]);
  }

  type Change = { from: DepositStatus; to: DepositStatus; cause: string };
  const chains = new Map<string, Change[]>();
  for (const e of events) {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.kind === "ledger") {
      expect(
        creditsOf.get(e.deposit_id) ?? [],
        `the timeline of deposit ${e.deposit_id} names ledger entry ${String(data.entryId)}, which is not its credit`,
      ).toContain(data.entryId);
      continue;
    }
    chains.set(e.deposit_id, [...(chains.get(e.deposit_id) ?? []), data as Change]);
  }

  for (const [depositId, chain] of chains) {
    const where = `deposit ${depositId}: ${chain.map((c) => `${c.from}→${c.to} (${c.cause})`).join(", ")}`;
    chain.forEach((c, i) => {
      const allowed = canTransition(c.from, c.to) || (c.cause === "review" && canResolveLate(c.from, c.to));
      expect(allowed, `a transition the state machine refuses, ${where}`).toBe(true);
      if (i > 0) expect(c.from, `a broken chain of status changes, ${where}`).toBe(chain[i - 1]!.to);
    });
    expect(statusOf.get(depositId), `the last status change is not the status, ${where}`).toBe(
      chain.at(-1)!.to,
    );
    const toSucceeded = chain.filter((c) => c.to === "succeeded").length;
    expect(toSucceeded, `succeeded more than once, ${where}`).toBeLessThanOrEqual(1);
    if (toSucceeded === 1) {
      expect(creditsOf.get(depositId) ?? [], `succeeded without exactly one credit, ${where}`).toHaveLength(
        1,
      );
    }
  }
}

/** Registers {@link expectPaymentInvariants} to run after every test of the calling file. */
export function paymentInvariantsAfterEach(ctx: () => Pick<AppContext, "db"> | undefined): void {
  afterEach(async () => {
    const c = ctx();
    if (c) await expectPaymentInvariants(c);
  });
}
