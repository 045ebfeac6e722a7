import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startScript } from "../support/processes.js";
import { insertOrders, seed } from "../support/seed.js";
import {
  cleanUp,
  freshDatabase,
  median,
  orderNo,
  portalLogin,
  reportSuccess,
  serve,
} from "./support/harness.js";

// R4: 100 concurrent deposits to a tenant backend that accepts the connection and
// never answers. Meanwhile the other endpoints keep their latency (login, the API-2 callback),
// and every hung order ends `failed` with reason `timeout` once the integration's API-1 limit
// passes. Latency is compared by medians with a small absolute allowance, so that a noisy
// shared machine cannot fail it; the figures are printed.

const HUNG = 100;
const API1_TIMEOUT_MS = 3_000;

afterAll(cleanUp);

async function timed(fn: () => Promise<Response>): Promise<number> {
  const t = performance.now();
  const res = await fn();
  await res.arrayBuffer();
  if (res.status >= 500) throw new Error(`answered ${res.status}`);
  return performance.now() - t;
}

describe("R4 a tenant backend that never answers", () => {
  it(`${HUNG} hung API-1 calls: login and callbacks keep their latency, every order fails with timeout`, async () => {
    const stub = await startScript(join(REPO_ROOT, "tests", "support", "api1-stub-server.ts"), ["hang"]);
    const db = await freshDatabase("sqlite", "r4");
    const s = await seed(db, { clients: 5, appUrl: stub.url, api1TimeoutMs: API1_TIMEOUT_MS });
    await insertOrders(db, s, { prefix: "n", count: 3_000, kind: "pending" });
    const server = await serve(db, {
      ALLOW_PRIVATE_APP_URLS: "true",
      DEPOSIT_RATE_LIMIT_PER_MINUTE: "1000000",
      LOGIN_RATE_LIMIT_PER_MINUTE: "1000000",
      LOG_LEVEL: "warn",
    });
    const base = server.url;
    const login = () =>
      timed(() =>
        fetch(`${base}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: s.ownerEmail, password: s.ownerPassword }),
        }),
      );
    let next = 0;
    const callback = async () => {
      const t = performance.now();
      const r = await reportSuccess(() => base, s, orderNo("n", next++), { deadlineMs: 0 });
      if (r.kind !== "done") throw new Error(`callback answered ${JSON.stringify(r)}`);
      return performance.now() - t;
    };
    /** Alternating login and callback samples until `until` (ms since epoch). */
    const sample = async (until: number) => {
      const logins: number[] = [];
      const callbacks: number[] = [];
      while (Date.now() < until && next < 2_900) {
        logins.push(await login());
        callbacks.push(await callback());
        await new Promise((r) => setTimeout(r, 10));
      }
      return { logins, callbacks };
    };

    // Warm up, then "normal": the same sampling for as long as the hang will last.
    await sample(Date.now() + 500);
    const normal = await sample(Date.now() + API1_TIMEOUT_MS - 500);

    const auth = await portalLogin(base, s, 0);
    const started = Date.now();
    const hung = Array.from({ length: HUNG }, (_, i) =>
      fetch(`${base}/api/portal/deposits`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ methodId: s.methodId, currency: "USD", amount: `${100 + i}.00` }),
      }).then(
        async (res) => ({
          status: res.status,
          body: (await res.json()) as { status?: string },
          ms: Date.now() - started,
        }),
        (err: unknown) => ({ status: 0, body: { status: String(err) }, ms: Date.now() - started }),
      ),
    );
    // Let the deposits reach the stub, then sample while they hang.
    await new Promise((r) => setTimeout(r, 200));
    const during = await sample(started + API1_TIMEOUT_MS - 300);
    const answers = await Promise.all(hung);

    const fig = (xs: number[]) => `median ${median(xs).toFixed(1)} ms over ${xs.length}`;
    console.log(
      `[R4] normal: login ${fig(normal.logins)}, callback ${fig(normal.callbacks)}; ` +
        `while ${HUNG} API-1 calls hang: login ${fig(during.logins)}, callback ${fig(during.callbacks)}; ` +
        `deposits answered after ${Math.min(...answers.map((a) => a.ms))}–${Math.max(...answers.map((a) => a.ms))} ms`,
    );
    expect(during.logins.length).toBeGreaterThanOrEqual(3);
    // Within 2× of normal, plus 25 ms so that scheduling noise on a shared machine cannot decide it.
    expect(median(during.logins)).toBeLessThanOrEqual(2 * median(normal.logins) + 25);
    expect(median(during.callbacks)).toBeLessThanOrEqual(2 * median(normal.callbacks) + 25);

    // Every deposit: created, API-1 timed out after the configured limit, the order failed.
    for (const a of answers) {
      expect(a.status).toBe(502);
      expect(a.body.status).toBe("failed");
      expect(a.ms).toBeGreaterThanOrEqual(API1_TIMEOUT_MS - 50);
      expect(a.ms).toBeLessThan(API1_TIMEOUT_MS + 5_000);
    }
    const rows = await db.raw.all<{ status: string; failure_reason: string | null }>(
      // Orders made through the API have no payment URL here (the seeded ones do).
      "SELECT status, failure_reason FROM deposits WHERE payment_url IS NULL",
    );
    expect(rows).toHaveLength(HUNG);
    expect(rows.filter((r) => r.status !== "failed" || r.failure_reason !== "timeout")).toEqual([]);

    // The server is still healthy, and the stub did receive the calls (they hung, not refused).
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await server.stop();
    await stub.stop();
    const count = stub.output.find((l) => l.startsWith("requests "));
    expect(Number(count?.split(" ")[1])).toBeGreaterThanOrEqual(16);
  });
});
