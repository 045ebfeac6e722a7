import { afterAll, describe, expect, it } from "vitest";
import { writeTransaction } from "../../apps/server/src/infra/db/database.js";
import { findLedgerMismatches } from "../../apps/server/src/modules/clients/ledger.js";
import { createUser } from "../../apps/server/src/modules/tenants/create-tenant.js";
import { postLedgerEntry } from "../../apps/server/src/test/ledger-postings.js";
import { seedWebhookEndpoint } from "../../apps/server/src/test/webhook-fixtures.js";
import { type PayoutStub, startPayoutStub } from "../support/payout-stub.js";
import {
  PAYOUT,
  PAYOUT_FIELDS,
  paidOnce,
  payoutCallbackBody,
  payoutMethodInput,
  payoutSettlements,
} from "../support/payouts.js";
import { freePort, type PsphubProcess } from "../support/processes.js";
import { seed, withContext } from "../support/seed.js";
import {
  cleanUp,
  type DbKind,
  freshDatabase,
  linesMentioning,
  pool,
  portalLogin,
  type ScratchDb,
  type Seed,
  serve,
} from "./support/harness.js";

// R11: withdrawals paid out through an integration (docs/withdrawals.md, docs/psp-open-api.md#payouts)
// by real `psphub serve` processes. Each case makes its withdrawals over HTTP as people would:
// clients request them in the portal, an admin and the owner approve the two levels, and the
// payout job sends API-4 to a loopback backend that takes every payout (tests/support/payout-stub.ts).
// (a) Every payout's "paid" API-5 sent 3 times, at once, over two processes on one PostgreSQL
// (one process on SQLite); a process is killed -9 mid-storm and restarted, and every callback is
// then sent again until it is answered 204. (b) The backend never calls back: the payout status
// query settles every payout, and the process is killed -9 during the job's sweep and restarted.
// Both: each payout debited exactly once, balances and held amounts equal their ledger sums.

const CLIENTS = 20;
const PER_CLIENT = 10;
const PAYOUTS = CLIENTS * PER_CLIENT;
/** Each client's wallet: 1,500.00, of which 10 × 100.00 is paid out. */
const FUNDING = 150_000;
const COPIES = 3;
const SENDERS = 24;
const ADMIN_PASSWORD = "r11 admin password";
/**
 * The payout job runs with the status-query worker's settings (apps/server/src/main.ts), polled
 * often here, with their lease (STATUS_QUERY_LEASE_SECONDS): a claim of a killed process comes
 * back after it. Webhook events are stored (the tenant has an endpoint) but not sent.
 */
const WORKER_ENV = {
  ALLOW_PRIVATE_APP_URLS: "true",
  STATUS_QUERY_POLL_MS: "100",
  STATUS_QUERY_CONCURRENCY: "8",
  STATUS_QUERY_LEASE_SECONDS: "4",
  WEBHOOK_POLL_MS: "0",
};

const stubs: PayoutStub[] = [];
afterAll(async () => {
  await cleanUp();
  for (const s of stubs) await s.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));

type Session = Record<string, string>;

async function staffLogin(base: string, email: string, password: string): Promise<Session> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`staff login ${email}: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, "x-csrf-token": csrfToken };
}

async function post(base: string, session: Session, path: string, body: unknown) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { ...session, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

async function count(db: ScratchDb, where: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.raw.all<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM withdrawals WHERE ${where}`,
    params,
  );
  return Number(row?.n);
}

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

type Payout = { id: string; payoutNo: string };

/**
 * A tenant whose integration's backend is the stub, an admin beside the owner, `CLIENTS` clients
 * with 1,500.00 each, and `PAYOUTS` withdrawals made over HTTP on a running process: requested
 * in the portal, approved at level 1 by the admin and level 2 by the owner, and sent by the
 * payout job (API-4) to the stub, which takes them: every one `paying`. The integration's
 * schedule puts the first payout status query 10 minutes on, out of every case's way.
 */
async function setUp(kind: DbKind, label: string) {
  const db = await freshDatabase(kind, label);
  const s: Seed = await seed(db, { clients: CLIENTS });
  const stub = await startPayoutStub({ merchantId: s.merchantId, token: s.token });
  stubs.push(stub);
  await db.raw.exec("UPDATE psp_integrations SET app_url = ?, status_query_schedule = ?", [
    stub.url,
    "[600]",
  ]);
  const adminEmail = `admin@${s.slug}.test`;
  await withContext(db, async (ctx) => {
    // An endpoint, so that the outbox keeps the tenant's events (a tenant with none stores none).
    await seedWebhookEndpoint(ctx, s.tenantId, { url: "https://hooks.example.com/psphub" });
    await createUser(ctx, s.tenantId, {
      email: adminEmail,
      name: "Admin",
      password: ADMIN_PASSWORD,
      role: "admin",
    });
    for (const clientId of s.clientIds)
      await writeTransaction(ctx.db, (trx) =>
        postLedgerEntry(trx, {
          tenantId: s.tenantId,
          clientId,
          currency: "USD",
          amountMinor: BigInt(FUNDING),
          kind: "adjustment",
          depositId: null,
          now: Date.now(),
        }),
      );
  });
  const env = { ...WORKER_ENV, PORT: String(await freePort()) };
  const server = await serve(db, env);
  const base = server.url;
  const owner = await staffLogin(base, s.ownerEmail, s.ownerPassword);
  const admin = await staffLogin(base, adminEmail, ADMIN_PASSWORD);
  const m = await post(base, owner, "/api/admin/withdrawal-methods", payoutMethodInput(s.integrationId));
  expect(m.status, m.text).toBe(201);
  const methodId = String(m.json().id);

  const payouts: Payout[] = [];
  await pool(
    s.clientIds.map((_, i) => i),
    4,
    async (i) => {
      const client = await portalLogin(base, s, i);
      for (let k = 0; k < PER_CLIENT; k++) {
        const res = await post(base, client, "/api/portal/withdrawals", {
          methodId,
          currency: "USD",
          amount: PAYOUT.amountText,
          fields: PAYOUT_FIELDS,
        });
        expect(res.status, res.text).toBe(201);
        payouts.push({ id: String(res.json().id), payoutNo: String(res.json().payoutNo) });
      }
    },
  );
  await pool(payouts, 6, async (p) => {
    for (const who of [admin, owner]) {
      const res = await post(base, who, `/api/admin/withdrawals/${p.id}/approve`, { comment: "checked" });
      expect(res.status, res.text).toBe(200);
    }
  });
  await until(
    "every payout taken by the backend (paying)",
    async () => (await count(db, "status = 'paying'")) === PAYOUTS,
    60_000,
  );
  expect(stub.requests.size).toBe(PAYOUTS);
  return { db, s, stub, server, env, payouts };
}

/** What every case must leave: each payout paid and debited once, the wallets equal to their ledger. */
async function expectEachPaidOnce(
  db: ScratchDb,
  s: Seed,
  payouts: readonly Payout[],
  source: "payout_callback" | "payout_status_query",
) {
  const settled = await payoutSettlements(db, "");
  expect(settled.size).toBe(PAYOUTS);
  expect(
    payouts
      .map((p) => settled.get(p.payoutNo))
      .filter((p) => !paidOnce(p))
      .slice(0, 5),
  ).toEqual([]);
  expect(await withContext(db, (ctx) => findLedgerMismatches(ctx.db))).toEqual([]);
  const wallets = await db.raw.all<{ balance: number | string; held: number | string }>(
    "SELECT balance_minor AS balance, held_minor AS held FROM wallets WHERE tenant_id = ?",
    [s.tenantId],
  );
  expect(wallets).toHaveLength(CLIENTS);
  const wrong = wallets.filter(
    (w) => Number(w.held) !== 0 || Number(w.balance) !== FUNDING - PER_CLIENT * PAYOUT.amountMinor,
  );
  expect(wrong).toEqual([]);
  // One accepted report per payout, from where it was expected; the rest are repeats.
  const logs = await db.raw.all<{
    withdrawal_id: string;
    source: string;
    verdict: string;
    n: number | string;
  }>(
    `SELECT withdrawal_id, source, verdict, COUNT(*) AS n FROM callback_logs
     WHERE withdrawal_id IS NOT NULL GROUP BY withdrawal_id, source, verdict`,
  );
  const accepted = logs.filter((l) => l.verdict === "accepted");
  expect(accepted.length).toBe(PAYOUTS);
  expect(accepted.filter((l) => Number(l.n) !== 1 || l.source !== source)).toEqual([]);
  expect(logs.filter((l) => l.verdict !== "accepted" && l.verdict !== "duplicate")).toEqual([]);
  // The timeline and the outbox say "paid" once per payout, with the right cause.
  const paidEvents = await db.raw.all<{ withdrawal_id: string; data: string }>(
    "SELECT withdrawal_id, data FROM withdrawal_events WHERE kind = 'paid'",
  );
  expect(paidEvents.length).toBe(PAYOUTS);
  expect(new Set(paidEvents.map((e) => e.withdrawal_id)).size).toBe(PAYOUTS);
  const cause = source === "payout_callback" ? "callback" : "status_query";
  expect(paidEvents.filter((e) => (JSON.parse(e.data) as { cause: string }).cause !== cause)).toEqual([]);
  const hooks = await db.raw.all<{ data: string }>(
    "SELECT data FROM webhook_events WHERE type = 'withdrawal.paid'",
  );
  const hooked = hooks.map((h) => (JSON.parse(h.data) as { payoutNo: string }).payoutNo);
  expect(hooked.length).toBe(PAYOUTS);
  expect(new Set(hooked)).toEqual(new Set(payouts.map((p) => p.payoutNo)));
}

type NetError = { target: number; at: number; code: string };

describe.each(["sqlite", "postgres"] as DbKind[])("R11 withdrawals on %s", (kind) => {
  const processes = kind === "postgres" ? 2 : 1;
  it(`(a) ${PAYOUTS} payouts × ${COPIES} "paid" API-5 over ${processes} process(es), one killed -9 mid-storm: each debited once`, async () => {
    const { db, s, stub, server, env, payouts } = await setUp(kind, `r11a${kind[0]}`);
    const servers: PsphubProcess[] = [server];
    if (processes === 2) servers.push(await serve(db, WORKER_ENV));
    const bodies = payouts.map((p) => payoutCallbackBody(s, p.payoutNo));

    const statuses: Record<string, number> = {};
    const netErrors: NetError[] = [];
    const inFlight = [0, 0];
    const started = performance.now();
    /** One attempt to process `target`: its HTTP status, or null for a network error. */
    const attempt = async (target: number, body: string): Promise<number | null> => {
      inFlight[target]!++;
      try {
        const res = await fetch(`${servers[target]!.url}/api/psp/payout/callback`, {
          method: "POST",
          headers: { "content-type": "application/json", "crm-pay-token": s.token },
          body,
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        return res.status;
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        netErrors.push({
          target,
          at: performance.now() - started,
          code: cause?.code ?? cause?.message ?? String(err),
        });
        return null;
      } finally {
        inFlight[target]!--;
      }
    };
    /** A tenant backend's retries: network errors again with backoff, until an HTTP answer (or `want`). */
    const send = async (target: number, body: string, want?: number): Promise<number> => {
      const deadline = Date.now() + 120_000;
      for (let n = 0; ; n++) {
        const status = await attempt(target, body);
        if (status !== null && (want === undefined || status === want || status < 500)) return status;
        if (Date.now() > deadline) throw new Error(`no answer within 120 s (${status})`);
        await sleep(Math.min(500, 25 * 2 ** n));
      }
    };

    // Every payout's copies, each to the process after the previous copy's, shuffled within
    // windows of 48 so that one payout's copies are in flight together.
    const jobs = payouts.flatMap((_, i) =>
      Array.from({ length: COPIES }, (_, c) => ({ i, target: (i + c) % processes })),
    );
    for (let w = 0; w < jobs.length; w += 48)
      for (let k = Math.min(jobs.length, w + 48) - 1; k > w; k--) {
        const j = w + Math.floor(Math.random() * (k - w + 1));
        [jobs[k], jobs[j]] = [jobs[j]!, jobs[k]!];
      }
    let answered = 0;
    let stormDone = false;
    const storm = pool(jobs, SENDERS, async (job) => {
      await send(job.target, bodies[job.i]!);
      answered++;
    }).finally(() => {
      stormDone = true;
    });

    // The kill: after a random 20–45 % of the storm was answered, plus 0–30 ms.
    const mark = Math.floor(jobs.length * (0.2 + Math.random() * 0.25));
    while (answered < mark && !stormDone) await sleep(2);
    if (stormDone) throw new Error("the storm ended before the kill: raise PAYOUTS");
    await sleep(rand(0, 30));
    const killAt = performance.now() - started;
    const inFlightAtKill = inFlight[0]!;
    const answeredAtKill = answered;
    await servers[0]!.kill9();
    servers[0] = await serve(db, env);
    const restartedAt = performance.now() - started;
    await storm;
    const stormS = (performance.now() - started) / 1000;

    // The backend sends every callback once more, until it is answered 204.
    const resent: Record<string, number> = {};
    await pool(payouts, 8, async (_, i) => {
      const status = await send(i % processes, bodies[i]!, 204);
      resent[status] = (resent[status] ?? 0) + 1;
    });
    await Promise.all(servers.map((p) => p.stop()));
    console.log(
      `[R11a ${kind}] ${jobs.length} callbacks for ${PAYOUTS} payouts over ${processes} process(es) in ${stormS.toFixed(1)} s; ` +
        `killed at ${Math.round(killAt)} ms (${answeredAtKill} answered, ${inFlightAtKill} in flight to it), restarted in ` +
        `${Math.round(restartedAt - killAt)} ms; ${netErrors.length} network errors (${[...new Set(netErrors.map((e) => e.code))].join(", ")}); ` +
        `answers ${JSON.stringify(statuses)}`,
    );

    // The kill landed with callbacks in flight to the killed process, and only the kill cost answers:
    // every HTTP answer was 204 (no 5xx), every network error was the killed process's, between
    // the kill and shortly after its restart.
    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(netErrors.length).toBeGreaterThan(0);
    expect(Object.keys(statuses)).toEqual(["204"]);
    expect(resent).toEqual({ 204: PAYOUTS });
    expect(netErrors.filter((e) => e.target !== 0 || e.at < killAt || e.at > restartedAt + 2_000)).toEqual(
      [],
    );

    await expectEachPaidOnce(db, s, payouts, "payout_callback");
    expect(stub.refused).toBe(0);
    expect(stub.queries.size).toBe(0);
    expect(linesMentioning(s.token)).toEqual([]);
  });
});

describe("R11 lost API-5, settled by the payout status query", () => {
  it.concurrent.for(["sqlite", "postgres"] as DbKind[])(
    `(b) %s: ${PAYOUTS} payouts whose API-5 never comes, the process killed -9 during the job's sweep: each settled once by the status query`,
    async (kind, { expect }) => {
      const { db, s, stub, server, env, payouts } = await setUp(kind, `r11b${kind[0]}`);
      await server.stop();
      // The backend paid every payout and its API-5 is lost: it answers the status query as paid,
      // 150 ms after each query, so the job always has queries in flight. Every payout is due now,
      // on a schedule of seconds.
      stub.status = "paid";
      stub.delayMs = 150;
      await db.raw.exec("UPDATE psp_integrations SET status_query_schedule = ?", ["[1,1,1,1,1,1,1,1]"]);
      await db.raw.exec("UPDATE withdrawals SET payout_due = ?, payout_step = 0 WHERE status = 'paying'", [
        Date.now(),
      ]);
      let p = await serve(db, env);
      await until("a third paid", async () => (await count(db, "status = 'paid'")) >= PAYOUTS / 3, 60_000);
      const killAt = Date.now();
      await p.kill9();
      // What the dead process had claimed: its lease still on them (claimed rows are due later).
      const held = await db.raw.all<{ payout_no: string }>(
        "SELECT payout_no FROM withdrawals WHERE status = 'paying' AND payout_due > ?",
        [killAt],
      );
      const paidAtKill = await count(db, "status = 'paid'");
      p = await serve(db, env);
      const restarted = Date.now();
      const ms = await until(
        "every payout paid",
        async () => (await count(db, "status = 'paid'")) === PAYOUTS,
        180_000,
      );
      await p.stop();
      const asked = [...stub.queries.entries()];
      const twice = asked.filter(([, n]) => n > 1).map(([no]) => no);
      console.log(
        `[R11b ${kind}] killed with ${paidAtKill} paid and ${held.length} claims held; every payout paid ${ms} ms after ` +
          `the restart (${Math.round((restarted + ms - killAt) / 1000)} s after the kill); ${asked.reduce((a, [, n]) => a + n, 0)} status queries, ` +
          `${twice.length} payouts asked twice`,
      );

      // The kill landed with the job's steps under way, and their claims came back after the lease.
      expect(held.length).toBeGreaterThan(0);
      expect(paidAtKill).toBeLessThan(PAYOUTS);
      // Asked again only where the dead process held the claim; never paid twice.
      const heldSet = new Set(held.map((h) => h.payout_no));
      expect(twice.filter((no) => !heldSet.has(no))).toEqual([]);
      expect(stub.queries.size).toBe(PAYOUTS);
      await expectEachPaidOnce(db, s, payouts, "payout_status_query");
      expect(await count(db, "payout_due IS NOT NULL OR needs_assistance IS NOT NULL")).toBe(0);
      expect(stub.refused).toBe(0);
      expect(linesMentioning(s.token)).toEqual([]);
    },
  );
});
