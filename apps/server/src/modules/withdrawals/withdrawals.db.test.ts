import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppContext } from "../../app-context.js";
import { AppError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { toBigInt, writeTransaction } from "../../infra/db/database.js";
import type { Role } from "../../infra/db/schema.js";
import { postLedgerEntry } from "../../test/ledger-postings.js";
import { insertClient } from "../../test/payment-fixtures.js";
import { createTestApp, createTestTenant, type TestApp } from "../../test/test-app.js";
import { testDbKind } from "../../test/test-database.js";
import { seedWebhookEndpoint, storedWebhookEvents } from "../../test/webhook-fixtures.js";
import { findLedgerMismatches } from "../clients/ledger.js";
import {
  approveWithdrawal,
  cancelWithdrawal,
  markWithdrawalPaid,
  rejectWithdrawal,
  type Staff,
} from "./decide-withdrawal.js";
import { requestWithdrawal } from "./request-withdrawal.js";
import { type ApprovalSettings, encodeApproval, encodeCurrencies } from "./withdrawal-model.js";

// Withdrawals on SQLite and PostgreSQL (docs/withdrawals.md): the hold is placed with the request
// and never exceeds the available balance, whatever runs at once (two processes included); the
// approval rules (never the same person twice); a payout debited exactly once; and any
// interleaving of deposits, requests, cancels, rejects and payouts keeps balance = ledger sum,
// held = the open withdrawals, and available ≥ 0.

let t: TestApp;
let tenantId: string;
let otherTenantId: string;

const APPROVAL: ApprovalSettings = {
  bands: [
    { from: "0", levels: 1 },
    { from: "1000", levels: 2 },
  ],
  rolesByLevel: [
    ["finance", "admin", "owner"],
    ["admin", "owner"],
  ],
  autoPayout: false,
};

async function insertWithdrawalMethod(tenant: string): Promise<string> {
  const id = newId();
  const now = Date.now();
  await t.ctx.db
    .insertInto("withdrawal_methods")
    .values({
      id,
      tenant_id: tenant,
      name: "Bank transfer",
      enabled: 1,
      sort_order: 0,
      currencies: encodeCurrencies([
        {
          code: "USD",
          decimals: 2,
          minMinor: 100n,
          maxMinor: 10_000_000n,
          feePercentBps: 100,
          feeFixedMinor: 50n,
          feeMaxMinor: null,
        },
      ]),
      fields: JSON.stringify([{ key: "iban", label: "IBAN", required: true }]),
      visibility: "all",
      client_groups: "[]",
      payout_mode: "manual",
      integration_id: null,
      approval_policy: encodeApproval(APPROVAL),
      failed_payout: "release",
      deleted_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

async function newClientWith(balanceMinor: bigint): Promise<string> {
  const { clientId } = await insertClient(t.ctx, tenantId);
  if (balanceMinor > 0n) await credit(clientId, balanceMinor);
  return clientId;
}

const credit = (clientId: string, amountMinor: bigint) =>
  writeTransaction(t.ctx.db, (trx) =>
    postLedgerEntry(trx, {
      tenantId,
      clientId,
      currency: "USD",
      amountMinor,
      kind: "adjustment",
      depositId: null,
      now: Date.now(),
    }),
  );

async function wallet(clientId: string) {
  const w = await t.ctx.db
    .selectFrom("wallets")
    .select(["balance_minor", "held_minor"])
    .where("client_id", "=", clientId)
    .executeTakeFirstOrThrow();
  return { balance: toBigInt(w.balance_minor), held: toBigInt(w.held_minor) };
}

const staff = (id: string, role: Role, tenant = tenantId): Staff => ({
  tenantId: tenant,
  staffId: id,
  role,
  audit: { type: "user", id },
  ip: null,
});

let methodId: string;
const ask = (clientId: string, amount: string, more: { idempotencyKey?: string; staffId?: string } = {}) =>
  requestWithdrawal(
    t.ctx,
    { tenantId, clientId, staffId: more.staffId ?? null },
    {
      methodId,
      currency: "USD",
      amount,
      fields: { iban: "DE89370400440532013000" },
      ...(more.idempotencyKey ? { idempotencyKey: more.idempotencyKey } : {}),
    },
  );

/**
 * Another server process on the same database. PostgreSQL only: two SQLite connections in one
 * process would wait on each other's file lock synchronously (SQLite is one writer per process;
 * the reliability suite runs real processes).
 */
const secondProcess = () =>
  testDbKind() === "postgres" ? createAppContext(t.ctx.config, { logger: t.ctx.logger }) : t.ctx;

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
};

beforeAll(async () => {
  t = await createTestApp();
  tenantId = (await createTestTenant(t.ctx)).tenantId;
  otherTenantId = (await createTestTenant(t.ctx)).tenantId;
  methodId = await insertWithdrawalMethod(tenantId);
});
afterAll(async () => t?.close());

describe("the request and its hold", () => {
  it("holds the amount in the ledger, leaves the balance, and lowers what is available", async () => {
    const clientId = await newClientWith(50_000n);
    const w = await ask(clientId, "120.00");
    expect(w).toMatchObject({
      status: "requested",
      amount_minor: 12_000,
      fee_minor: 170,
      payout_minor: 11_830,
      levels_required: 1,
    });
    expect(await wallet(clientId)).toEqual({ balance: 50_000n, held: 12_000n });
    const entries = await t.ctx.db
      .selectFrom("ledger_entries")
      .select(["kind", "amount_minor"])
      .where("withdrawal_id", "=", w.id)
      .execute();
    expect(entries.map((e) => [e.kind, Number(e.amount_minor)])).toEqual([["withdrawal_hold", 12_000]]);
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
    // What is held is not available again.
    expect(await codeOf(ask(clientId, "380.01"))).toBe("insufficient_available_balance");
    expect(await codeOf(ask(clientId, "380.00"))).toBe("ok");
    expect(await wallet(clientId)).toEqual({ balance: 50_000n, held: 50_000n });
  });

  it("refuses a bad amount, a missing field and an unknown currency before holding anything", async () => {
    const clientId = await newClientWith(10_000n);
    expect(await codeOf(ask(clientId, "0.001"))).toBe("validation_failed");
    expect(await codeOf(ask(clientId, "0.50"))).toBe("validation_failed");
    expect(
      await codeOf(
        requestWithdrawal(
          t.ctx,
          { tenantId, clientId },
          { methodId, currency: "USD", amount: "10.00", fields: {} },
        ),
      ),
    ).toBe("validation_failed");
    expect(
      await codeOf(
        requestWithdrawal(
          t.ctx,
          { tenantId, clientId },
          { methodId, currency: "EUR", amount: "10.00", fields: { iban: "x" } },
        ),
      ),
    ).toBe("validation_failed");
    expect(await wallet(clientId)).toEqual({ balance: 10_000n, held: 0n });
  });

  it("answers the same idempotency key with the first request, and refuses it for another amount", async () => {
    const clientId = await newClientWith(10_000n);
    const [a, b] = await Promise.all([
      ask(clientId, "10.00", { idempotencyKey: "k1" }),
      ask(clientId, "10.00", { idempotencyKey: "k1" }),
    ]);
    expect(a.id).toBe(b.id);
    expect(await wallet(clientId)).toEqual({ balance: 10_000n, held: 1_000n });
    expect(await codeOf(ask(clientId, "11.00", { idempotencyKey: "k1" }))).toBe("idempotency_key_reused");
  });

  it("never holds more than the balance, however many requests race, from two processes on PostgreSQL", async () => {
    const clientId = await newClientWith(10_000n);
    const second = secondProcess();
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          codeOf(
            requestWithdrawal(
              i % 2 ? second : t.ctx,
              { tenantId, clientId },
              { methodId, currency: "USD", amount: "30.00", fields: { iban: "x" } },
            ),
          ),
        ),
      );
      expect(results.filter((r) => r === "ok")).toHaveLength(3);
      expect(results.filter((r) => r !== "ok").every((r) => r === "insufficient_available_balance")).toBe(
        true,
      );
    } finally {
      if (second !== t.ctx) await second.close();
    }
    expect(await wallet(clientId)).toEqual({ balance: 10_000n, held: 9_000n });
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
  });
});

describe("approval", () => {
  it("needs a different person at each level, never the requester, and releases the hold on a rejection", async () => {
    const clientId = await newClientWith(500_000n);
    const big = await ask(clientId, "1500.00", { staffId: "s-req" });
    expect(big.levels_required).toBe(2);
    // The staff member who requested it never approves it.
    expect(await codeOf(approveWithdrawal(t.ctx, staff("s-req", "owner"), big.id, "ok"))).toBe("own_request");
    expect(await codeOf(approveWithdrawal(t.ctx, staff("f1", "viewer"), big.id, "ok"))).toBe(
      "role_not_allowed",
    );
    expect((await approveWithdrawal(t.ctx, staff("f1", "finance"), big.id, "documents checked")).status).toBe(
      "approving",
    );
    // Level 2: finance may not, and the first approver may not again.
    expect(await codeOf(approveWithdrawal(t.ctx, staff("f2", "finance"), big.id, "ok"))).toBe(
      "role_not_allowed",
    );
    expect(await codeOf(approveWithdrawal(t.ctx, staff("f1", "admin"), big.id, "ok"))).toBe(
      "already_decided_by_you",
    );
    expect(await codeOf(markWithdrawalPaid(t.ctx, staff("f2", "finance"), big.id, "SEPA-1"))).toBe(
      "withdrawal_not_approved",
    );
    // The client cannot cancel once a level approved.
    expect(await codeOf(cancelWithdrawal(t.ctx, { tenantId, clientId }, big.id))).toBe(
      "withdrawal_not_cancellable",
    );
    const rejected = await rejectWithdrawal(t.ctx, staff("a1", "admin"), big.id, {
      comment: "destination does not match the client",
      clientReason: "Please withdraw to an account in your own name.",
    });
    expect(rejected).toMatchObject({
      status: "rejected",
      client_reason: "Please withdraw to an account in your own name.",
    });
    expect(await wallet(clientId)).toEqual({ balance: 500_000n, held: 0n });
    const events = await t.ctx.db
      .selectFrom("withdrawal_events")
      .select("kind")
      .where("withdrawal_id", "=", big.id)
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    expect(events.map((e) => e.kind)).toEqual([
      "requested",
      "hold_placed",
      "approved",
      "rejected",
      "hold_released",
    ]);
    const decisions = await t.ctx.db
      .selectFrom("withdrawal_decisions")
      .select(["level", "decision", "staff_id"])
      .where("withdrawal_id", "=", big.id)
      .orderBy("level")
      .execute();
    expect(decisions).toEqual([
      { level: 1, decision: "approve", staff_id: "f1" },
      { level: 2, decision: "reject", staff_id: "a1" },
    ]);
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
  });

  it("pays an approved withdrawal once, however many record it at once", async () => {
    const clientId = await newClientWith(20_000n);
    const w = await ask(clientId, "100.00");
    await approveWithdrawal(t.ctx, staff("f1", "finance"), w.id, "ok");
    const second = secondProcess();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          codeOf(markWithdrawalPaid(i % 2 ? second : t.ctx, staff("f2", "finance"), w.id, "SEPA-42")),
        ),
      );
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
    } finally {
      if (second !== t.ctx) await second.close();
    }
    expect(await wallet(clientId)).toEqual({ balance: 10_000n, held: 0n });
    const entries = await t.ctx.db
      .selectFrom("ledger_entries")
      .select(["kind", "amount_minor"])
      .where("withdrawal_id", "=", w.id)
      .orderBy("kind")
      .execute();
    expect(entries.map((e) => [e.kind, Number(e.amount_minor)])).toEqual([
      ["withdrawal_debit", -10_000],
      ["withdrawal_hold", 10_000],
      ["withdrawal_release", -10_000],
    ]);
    expect(await findLedgerMismatches(t.ctx.db)).toEqual([]);
  });

  it("lets a client cancel before any approval, and no other tenant decide", async () => {
    const clientId = await newClientWith(5_000n);
    const w = await ask(clientId, "20.00");
    expect(await codeOf(approveWithdrawal(t.ctx, staff("x1", "owner", otherTenantId), w.id, "ok"))).toBe(
      "not_found",
    );
    expect(await codeOf(cancelWithdrawal(t.ctx, { tenantId: otherTenantId, clientId }, w.id))).toBe(
      "not_found",
    );
    expect((await cancelWithdrawal(t.ctx, { tenantId, clientId }, w.id)).status).toBe("cancelled");
    expect(await codeOf(cancelWithdrawal(t.ctx, { tenantId, clientId }, w.id))).toBe(
      "withdrawal_not_cancellable",
    );
    expect(await wallet(clientId)).toEqual({ balance: 5_000n, held: 0n });
  });
});

describe("webhook events", () => {
  it("reports each step through the outbox, in the transaction of the change", async () => {
    await seedWebhookEndpoint(t.ctx, tenantId, { url: "https://hooks.example.com/w" });
    const clientId = await newClientWith(300_000n);
    const paid = await ask(clientId, "1200.00");
    await approveWithdrawal(t.ctx, staff("e1", "finance"), paid.id, "ok");
    await approveWithdrawal(t.ctx, staff("e2", "admin"), paid.id, "ok");
    await markWithdrawalPaid(t.ctx, staff("e3", "finance"), paid.id, "SEPA-7");
    const cancelled = await ask(clientId, "10.00");
    await cancelWithdrawal(t.ctx, { tenantId, clientId }, cancelled.id);
    const rejected = await ask(clientId, "20.00");
    await rejectWithdrawal(t.ctx, staff("e1", "finance"), rejected.id, {
      comment: "no",
      clientReason: "Wrong account",
    });
    // A refused request writes nothing.
    expect(await codeOf(ask(clientId, "99999.00"))).toBe("insufficient_available_balance");

    const events = (await storedWebhookEvents(t.ctx, tenantId)).filter((e) =>
      e.type.startsWith("withdrawal."),
    );
    const of = (id: string) =>
      events.filter((e) => e.data.withdrawalId === id).map((e) => [e.type, e.data.status, e.data.level]);
    expect(of(paid.id)).toEqual([
      ["withdrawal.requested", "requested", null],
      ["withdrawal.approved", "approving", 1],
      ["withdrawal.approved", "approved", 2],
      ["withdrawal.paid", "paid", null],
    ]);
    expect(of(cancelled.id)).toEqual([
      ["withdrawal.requested", "requested", null],
      ["withdrawal.cancelled", "cancelled", null],
    ]);
    expect(of(rejected.id)).toEqual([
      ["withdrawal.requested", "requested", null],
      ["withdrawal.rejected", "rejected", 1],
    ]);
    expect(events).toHaveLength(8);
    expect(events.find((e) => e.type === "withdrawal.paid")?.data).toEqual({
      withdrawalId: paid.id,
      payoutNo: paid.payout_no,
      clientId,
      methodId,
      status: "paid",
      amount: "1200.00",
      fee: "12.50",
      payoutAmount: "1187.50",
      currency: "USD",
      level: null,
      levelsRequired: 2,
      clientReason: null,
      reference: "SEPA-7",
    });
    expect(events.find((e) => e.type === "withdrawal.rejected")?.data.clientReason).toBe("Wrong account");
  });
});

describe("any interleaving", () => {
  type Op =
    | { kind: "deposit"; minor: number }
    | { kind: "request"; minor: number }
    | { kind: "cancel"; pick: number }
    | { kind: "reject"; pick: number }
    | { kind: "pay"; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant("deposit" as const), minor: fc.integer({ min: 1, max: 50_000 }) }),
    fc.record({ kind: fc.constant("request" as const), minor: fc.integer({ min: 100, max: 60_000 }) }),
    fc.record({ kind: fc.constant("cancel" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("reject" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("pay" as const), pick: fc.nat() }),
  );

  it("keeps balance = ledger sum, held = the open withdrawals, and available ≥ 0", {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const clientId = await newClientWith(0n);
        const open: Array<{ id: string; minor: bigint; approved: boolean }> = [];
        let balance = 0n;
        for (const o of ops) {
          if (o.kind === "deposit") {
            await credit(clientId, BigInt(o.minor));
            balance += BigInt(o.minor);
          } else if (o.kind === "request") {
            const held = open.reduce((s, w) => s + w.minor, 0n);
            const r = await ask(
              clientId,
              `${Math.floor(o.minor / 100)}.${String(o.minor % 100).padStart(2, "0")}`,
            ).catch((e: AppError) => e);
            if (r instanceof AppError)
              expect(r.code === "insufficient_available_balance" && balance - held < BigInt(o.minor)).toBe(
                true,
              );
            else {
              expect(balance - held >= BigInt(o.minor)).toBe(true);
              open.push({ id: r.id, minor: BigInt(o.minor), approved: false });
            }
          } else if (open.length > 0) {
            const i = o.pick % open.length;
            const w = open[i]!;
            if (o.kind === "cancel" && !w.approved) {
              await cancelWithdrawal(t.ctx, { tenantId, clientId }, w.id);
              open.splice(i, 1);
            } else if (o.kind === "reject" && !w.approved) {
              await rejectWithdrawal(t.ctx, staff("r1", "admin"), w.id, {
                comment: "no",
                clientReason: "no",
              });
              open.splice(i, 1);
            } else if (o.kind === "pay") {
              if (!w.approved) {
                await approveWithdrawal(t.ctx, staff("p1", "finance"), w.id, "ok");
                w.approved = true;
              } else {
                await markWithdrawalPaid(t.ctx, staff("p2", "finance"), w.id, "ref");
                balance -= w.minor;
                open.splice(i, 1);
              }
            }
          }
          const now = await wallet(clientId).catch(() => ({ balance: 0n, held: 0n }));
          expect(now.balance).toBe(balance);
          expect(now.held).toBe(open.reduce((s, w) => s + w.minor, 0n));
          expect(now.balance - now.held >= 0n).toBe(true);
        }
        expect(await findLedgerMismatches(t.ctx.db, tenantId)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
