import type { SendCallbackResult } from "@psphub/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, type PsphubProcess } from "../support/processes.js";
import { insertOrders, seed } from "../support/seed.js";
import {
  cleanUp,
  type DbKind,
  expectEachCreditedOnce,
  freshDatabase,
  linesMentioning,
  moneySnapshot,
  orderNo,
  pool,
  reportSuccess,
  serve,
} from "./support/harness.js";

// R1: a callback storm over distinct orders from senders that retry until 204 or a
// 4xx, as tenant backends do, while the server is killed with SIGKILL at random moments and
// restarted on the same port. At the end every order succeeded and was credited exactly once,
// every balance equals its ledger sum, and no callback was lost.

const ORDERS = 1_200;
const SENDERS = 24;
const KILLS = 4;
/** After each (re)start, kill once this many more orders than before were confirmed (random in range)… */
const PROGRESS = [40, 160] as const;
/** …plus a random delay, so the kill lands at an arbitrary point of a request. */
const JITTER_MS = 120;

afterAll(cleanUp);

const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));

describe.each(["sqlite", "postgres"] as DbKind[])("R1 crash on %s", (kind) => {
  it(`${ORDERS} distinct success callbacks, server killed -9 ${KILLS} times: each order credited exactly once`, async () => {
    const db = await freshDatabase(kind, "r1");
    const s = await seed(db, { clients: 50 });
    await insertOrders(db, s, { prefix: "k", count: ORDERS, kind: "pending" });
    const port = await freePort();
    const env = { PORT: String(port) };
    let server: PsphubProcess = await serve(db, env);
    const base = () => server.url;

    let confirmed = 0;
    const results: SendCallbackResult[] = new Array(ORDERS);
    const started = performance.now();
    const storm = pool(
      Array.from({ length: ORDERS }, (_, i) => orderNo("k", i)),
      SENDERS,
      async (no, i) => {
        results[i] = await reportSuccess(base, s, no);
        if (results[i]!.kind === "done") confirmed++;
      },
    );
    let stormDone = false;
    void storm.then(() => {
      stormDone = true;
    });

    // The killer: random moments while the storm runs, each followed by an immediate restart.
    const kills: { at: number; confirmed: number; restartMs: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const target = confirmed + rand(PROGRESS[0], PROGRESS[1]);
      while (confirmed < target && !stormDone) await new Promise((r) => setTimeout(r, 5));
      // A server so fast that the storm ended first would make this test prove nothing.
      if (stormDone) throw new Error(`the storm ended after ${k} kills: raise ORDERS`);
      await new Promise((r) => setTimeout(r, rand(0, JITTER_MS)));
      const at = performance.now() - started;
      const mark = confirmed;
      await server.kill9();
      const t = performance.now();
      server = await serve(db, env);
      kills.push({ at: Math.round(at), confirmed: mark, restartMs: Math.round(performance.now() - t) });
    }
    await storm;
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[R1 ${kind}] ${ORDERS} orders in ${seconds.toFixed(1)} s; kills at ${kills
        .map((k) => `${k.at} ms (${k.confirmed} confirmed, restarted in ${k.restartMs} ms)`)
        .join(", ")}`,
    );
    await server.stop();

    expect(kills).toHaveLength(KILLS);
    // Every kill landed while callbacks were still outstanding.
    for (const k of kills) expect(k.confirmed).toBeLessThan(ORDERS);
    const notDone = results.filter((r) => r.kind !== "done");
    expect(notDone.slice(0, 3)).toEqual([]);
    const retried = results.filter((r) => r.attempts > 1).length;
    console.log(`[R1 ${kind}] ${retried} callbacks needed more than one attempt`);
    expect(retried).toBeGreaterThan(0);

    await expectEachCreditedOnce(db, "k", ORDERS);
    expect(linesMentioning(s.token)).toEqual([]);

    // A second pass of the same callbacks after the storm changes nothing (idempotent).
    server = await serve(db, env);
    const before = await moneySnapshot(db);
    await pool(
      Array.from({ length: 100 }, (_, i) => orderNo("k", i * 7)),
      8,
      async (no) => {
        expect((await reportSuccess(base, s, no)).kind).toBe("done");
      },
    );
    expect(await moneySnapshot(db)).toBe(before);
    await server.stop();
  }, 300_000);
});
