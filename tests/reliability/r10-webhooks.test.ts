import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeCallback } from "@psphub/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { seedWebhookEndpoint } from "../../apps/server/src/test/webhook-fixtures.js";
import {
  signedWith,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../apps/server/src/test/webhook-receiver.js";
import { freePort } from "../support/processes.js";
import {
  type DbKind,
  insertOrders,
  ORDER,
  orderCredits,
  orderNo,
  seed,
  successBodies,
  withContext,
} from "../support/seed.js";
import {
  cleanUp,
  expectEachCreditedOnce,
  freshDatabase,
  linesMentioning,
  pool,
  sendCallbackOnce,
  serve,
} from "./support/harness.js";

// R10: outbound webhooks from real `psphub serve` processes (docs/webhooks.md). (a) A process
// commits credits whose webhooks are not sent yet and is killed -9; a new process on the same
// database delivers every one of them, exactly as stored. (b) Two processes on one PostgreSQL
// credit orders and deliver their events at once: each event arrives once, and one order's
// events in sequence. (c) A process is killed -9 while its posts are in flight (the receiver
// holds them unanswered): once their claims' lease has passed, a new process sends them again
// under the same `webhook-id`. At least once is the promise across a crash; exactly once in the
// normal case.

const ORDERS = 100;
// The loopback receivers and the holding one of (c): closed after the run.
const receivers: Pick<WebhookReceiver, "close">[] = [];
afterAll(async () => {
  await cleanUp();
  for (const r of receivers) await r.close();
});

async function setUp(kind: DbKind, label: string) {
  const db = await freshDatabase(kind, label);
  const s = await seed(db, { clients: 20 });
  await insertOrders(db, s, { prefix: "w", count: ORDERS, kind: "pending" });
  const rx = await startWebhookReceiver();
  receivers.push(rx);
  const { secret } = await withContext(db, (ctx) => seedWebhookEndpoint(ctx, s.tenantId, { url: rx.url }));
  return { db, s, rx, secret };
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

/**
 * A receiver that holds every request unanswered until `release()`; from then on it answers 200
 * at once (held requests whose sender died are simply dropped with their connection).
 */
async function startHoldingReceiver() {
  const received: { headers: IncomingHttpHeaders; body: string; answered: boolean }[] = [];
  const held: ServerResponse[] = [];
  let holding = true;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        answered: !holding,
      });
      if (holding) held.push(res);
      else res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    release: () => {
      holding = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const WEBHOOKS_ON = { ALLOW_PRIVATE_APP_URLS: "true", WEBHOOK_POLL_MS: "100", WEBHOOK_CONCURRENCY: "16" };

describe("R10 outbound webhooks from real processes", () => {
  for (const kind of ["sqlite", "postgres"] as const) {
    it(`(a) ${kind}: credits committed, the process killed -9 before sending, a new process delivers each event as stored`, async () => {
      const { db, s, rx, secret } = await setUp(kind, `r10a${kind[0]}`);
      const port = await freePort();
      // The first process does not deliver at all: its every event is still to send when it dies.
      let server = await serve(db, { ...WEBHOOKS_ON, WEBHOOK_POLL_MS: "0", PORT: String(port) });
      const bodies = successBodies(s, "w", ORDERS);
      const statuses: number[] = [];
      await pool(bodies, 8, async (b) => {
        statuses.push(await sendCallbackOnce(server, s.token, b));
      });
      expect(new Set(statuses)).toEqual(new Set([204]));
      await server.kill9();
      const stored = await db.raw.all<{ id: string; type: string; seq: number | string }>(
        "SELECT id, type, seq FROM webhook_events ORDER BY id",
      );
      expect(stored.length).toBe(2 * ORDERS); // deposit.succeeded and wallet.credited per order
      expect(rx.received).toEqual([]);

      server = await serve(db, { ...WEBHOOKS_ON, PORT: String(port) });
      const ms = await until("every event delivered", () => rx.received.length >= 2 * ORDERS, 60_000);
      console.log(`[R10a ${kind}] ${2 * ORDERS} events delivered ${ms} ms after the restart`);
      await server.stop();

      const ids = rx.received.map((w) => String(w.headers["webhook-id"]));
      expect(new Set(ids)).toEqual(new Set(stored.map((e) => e.id)));
      for (const w of rx.received.slice(0, 20)) expect(await signedWith(w, secret)).toBe(true);
      const [left] = await db.raw.all<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'",
      );
      expect(Number(left?.n)).toBe(0);
      await expectEachCreditedOnce(db, "w", ORDERS);
      expect(linesMentioning(secret)).toEqual([]);
    });
  }

  for (const kind of ["sqlite", "postgres"] as const) {
    it(`(c) ${kind}: the process killed -9 while its posts hang; after the lease a new process sends them again, same webhook-id`, async () => {
      const db = await freshDatabase(kind, `r10c${kind[0]}`);
      const s = await seed(db, { clients: 20 });
      await insertOrders(db, s, { prefix: "w", count: ORDERS, kind: "pending" });
      const rx = await startHoldingReceiver();
      receivers.push(rx);
      const { secret } = await withContext(db, (ctx) =>
        seedWebhookEndpoint(ctx, s.tenantId, { url: rx.url }),
      );
      const port = await freePort();
      let server = await serve(db, { ...WEBHOOKS_ON, PORT: String(port) });
      const statuses: number[] = [];
      await pool(successBodies(s, "w", ORDERS), 8, async (b) => {
        statuses.push(await sendCallbackOnce(server, s.token, b));
      });
      // Credits do not wait for webhooks: every callback answered while the posts hang.
      expect(new Set(statuses)).toEqual(new Set([204]));
      await until("posts in flight", () => rx.received.length >= 8, 20_000);
      await server.kill9();
      const inFlight = new Set(rx.received.map((w) => String(w.headers["webhook-id"])));
      const stored = await db.raw.all<{ id: string }>("SELECT id FROM webhook_events ORDER BY id");
      expect(stored.length).toBe(2 * ORDERS);

      rx.release();
      server = await serve(db, { ...WEBHOOKS_ON, PORT: String(port) });
      const answeredIds = () =>
        new Set(rx.received.filter((w) => w.answered).map((w) => String(w.headers["webhook-id"])));
      // The posts that hung come back only when their claim's lease (30 s) has passed.
      const ms = await until("every event answered 200", () => answeredIds().size >= stored.length, 90_000);
      await until(
        "nothing left to deliver",
        async () => {
          const [left] = await db.raw.all<{ n: number | string }>(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'",
          );
          return Number(left?.n) === 0;
        },
        10_000,
      );
      await server.stop();
      console.log(
        `[R10c ${kind}] ${inFlight.size} posts in flight at the kill; all ${stored.length} events answered 200 ${ms} ms after the restart; ${rx.received.length} posts in all`,
      );

      // At least once: every stored event answered 200, the ones in flight at the kill among them.
      expect(answeredIds()).toEqual(new Set(stored.map((e) => e.id)));
      expect([...inFlight].filter((id) => !answeredIds().has(id))).toEqual([]);
      // The posts sent again carry the same id and a valid signature (a new timestamp).
      for (const w of rx.received.filter((x) => x.answered && inFlight.has(String(x.headers["webhook-id"]))))
        expect(await signedWith(w, secret)).toBe(true);
      await expectEachCreditedOnce(db, "w", ORDERS);
      expect(linesMentioning(secret)).toEqual([]);
    });
  }

  it("(b) postgres: two processes credit and deliver at once; each event once, one order's in sequence", async () => {
    const { db, s, rx, secret } = await setUp("postgres", "r10b");
    const [a, b] = await Promise.all([serve(db, WEBHOOKS_ON), serve(db, WEBHOOKS_ON)]);
    const bodies = successBodies(s, "w", ORDERS);
    // A processing report first, then the success, each order's two to the two processes.
    const processing = bodies.map((_, i) => {
      const no = orderNo("w", i);
      return encodeCallback(
        {
          merchantId: s.merchantId,
          orderNo: no,
          amount: ORDER.amountText,
          currency: "USD",
          status: 2,
          time: 1_767_225_500_000,
          transactionId: `tx-${no}`,
        },
        s.token,
      ).body;
    });
    await pool(
      bodies.map((_, i) => i),
      8,
      async (i) => {
        await sendCallbackOnce(i % 2 ? a! : b!, s.token, processing[i]!);
        await sendCallbackOnce(i % 2 ? b! : a!, s.token, bodies[i]!);
      },
    );
    const expected = 3 * ORDERS;
    const ms = await until("every event delivered", () => rx.received.length >= expected, 60_000);
    await new Promise((r) => setTimeout(r, 500)); // any duplicate would arrive by now
    console.log(`[R10b] ${expected} events over 2 processes delivered ${ms} ms after the last callback`);
    await Promise.all([a!.stop(), b!.stop()]);

    const ids = rx.received.map((w) => String(w.headers["webhook-id"]));
    expect(ids.length).toBe(expected);
    expect(new Set(ids).size).toBe(expected);
    const byOrder = new Map<string, number[]>();
    for (const w of rx.received) {
      const k = String(w.json.data.orderNo);
      byOrder.set(k, [...(byOrder.get(k) ?? []), Number(w.json.data.sequence)]);
    }
    expect(byOrder.size).toBe(ORDERS);
    expect([...byOrder.values()].filter((seqs) => seqs.join() !== "1,2,3")).toEqual([]);
    // Two accepted callbacks per order here (processing, then success): each credited once.
    const credits = await orderCredits(db, "w");
    expect(credits.size).toBe(ORDERS);
    expect([...credits.values()].filter((c) => c.status !== "succeeded" || c.credits !== 1)).toEqual([]);
    expect(linesMentioning(secret)).toEqual([]);
  });
});
