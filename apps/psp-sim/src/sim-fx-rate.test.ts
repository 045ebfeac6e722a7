import { afterEach, describe, expect, it } from "vitest";
import { loadSimConfig } from "./config.js";
import { closeAll, setup } from "./test-support.js";

afterEach(closeAll);

const KEY = "fx-key-0123456789";

async function rate(base: string, query: string, key?: string) {
  const res = await fetch(`${base}/fx/rate?${query}`, { headers: key === undefined ? {} : { key } });
  return { status: res.status, text: await res.text() };
}

describe("psp-sim serves an exchange-rate API on GET /fx/rate", () => {
  it("answers the default table with a string rate and the time, and counts requests", async () => {
    const { sim } = await setup();
    const before = Date.now();
    const r = await rate(sim.url, "from=EUR&to=USD");
    expect(r.status).toBe(200);
    const body = JSON.parse(r.text);
    expect(body.rate).toBe("1.0781");
    expect(body.time).toBeGreaterThanOrEqual(before);
    expect((await rate(sim.url, "from=XAU&to=USD")).status).toBe(404);
    expect(sim.sim.fx.requests()).toBe(2);
  });

  it("checks the key header when one is configured", async () => {
    const { sim } = await setup({ fx: { key: KEY } });
    expect((await rate(sim.url, "from=EUR&to=USD")).status).toBe(401);
    expect((await rate(sim.url, "from=EUR&to=USD", "wrong")).status).toBe(401);
    expect((await rate(sim.url, "from=EUR&to=USD", KEY)).status).toBe(200);
    sim.sim.fx.setKey("another");
    expect((await rate(sim.url, "from=EUR&to=USD", KEY)).status).toBe(401);
  });

  it("misbehaves on demand: failing, garbage, stale, slow", async () => {
    const { sim } = await setup({ slowMs: 60_000, fx: { mode: "failing" } });
    expect((await rate(sim.url, "from=EUR&to=USD")).status).toBe(500);
    sim.sim.fx.setMode("garbage");
    const g = await rate(sim.url, "from=EUR&to=USD");
    expect(() => JSON.parse(g.text)).toThrow();
    sim.sim.fx.setMode("stale");
    const s = JSON.parse((await rate(sim.url, "from=EUR&to=USD")).text);
    expect(Date.now() - s.time).toBeGreaterThanOrEqual(3_600_000);
    sim.sim.fx.setMode("slow");
    const controller = new AbortController();
    const pending = fetch(`${sim.url}/fx/rate?from=EUR&to=USD`, { signal: controller.signal });
    // The slow answer never comes before the abort: nothing races here, it waits a minute.
    controller.abort();
    await expect(pending).rejects.toThrow();
  });

  it("reads --fx-key, --fx-mode and --fx-rates", () => {
    const cfg = loadSimConfig(
      [
        "--callback-url",
        "http://127.0.0.1:1",
        "--token",
        "t",
        "--fx-key",
        KEY,
        "--fx-mode",
        "stale",
        "--fx-rates",
        "EUR/USD=1.1,GBP/EUR=1.17",
      ],
      {},
    );
    expect(cfg).toMatchObject({
      fx: { key: KEY, mode: "stale", rates: { "EUR/USD": "1.1", "GBP/EUR": "1.17" } },
    });
    expect(() =>
      loadSimConfig(["--callback-url", "http://127.0.0.1:1", "--token", "t", "--fx-mode", "odd"], {}),
    ).toThrow(/--fx-mode/);
    expect(() =>
      loadSimConfig(["--callback-url", "http://127.0.0.1:1", "--token", "t", "--fx-rates", "EUR-USD=1"], {}),
    ).toThrow(/--fx-rates/);
  });
});
