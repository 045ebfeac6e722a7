import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type BackpressureOptions, DeliveryBackpressure } from "./delivery-backpressure.js";

function gate(over: Partial<BackpressureOptions> = {}) {
  const clock = { t: 1_000_000 };
  const bp = new DeliveryBackpressure({
    maxLagMs: 100,
    maxHoldMs: 2_000,
    staleMs: 2_000,
    now: () => clock.t,
    ...over,
  });
  return { bp, clock };
}

/** Whether the promise has settled once pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("DeliveryBackpressure", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("holds nothing while deliveries keep up", async () => {
    const { bp } = gate();
    expect(bp.holds("t1")).toBe(false);
    bp.observe(null, []);
    expect(bp.holds("t1")).toBe(false);
    bp.observe(100, ["t1"]); // at the limit, not past it
    expect(bp.holds("t1")).toBe(false);
    expect(await settled(bp.admit("t1"))).toBe(true);
  });

  it("holds the tenants behind once the lag passes the limit, and only them", async () => {
    const { bp } = gate();
    bp.observe(101, ["t1"]);
    expect(bp.holds("t1")).toBe(true);
    expect(bp.holds("t2")).toBe(false);
    bp.claimed(["t3"]);
    expect(bp.holds("t3")).toBe(true);
    expect(await settled(bp.admit("t2"))).toBe(true);
  });

  it("counts claimed tenants only while behind", () => {
    const { bp } = gate();
    bp.claimed(["t1"]);
    bp.observe(500, ["t2"]);
    expect(bp.holds("t1")).toBe(false);
    expect(bp.holds("t2")).toBe(true);
  });

  it("keeps holding until the lag is down to half the limit (hysteresis), then lets every waiter go", async () => {
    const { bp } = gate();
    bp.observe(400, ["t1"]);
    const a = bp.admit("t1");
    const b = bp.admit("t1");
    expect(await settled(a)).toBe(false);
    expect(bp.held).toBe(2);
    bp.observe(60, []);
    expect(await settled(a)).toBe(false);
    expect(bp.holds("t1")).toBe(true);
    bp.observe(50, []);
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
    expect(bp.held).toBe(0);
    expect(bp.holds("t1")).toBe(false);
  });

  it("lets every waiter go when nothing is due any more", async () => {
    const { bp } = gate();
    bp.observe(400, ["t1"]);
    const a = bp.admit("t1");
    bp.observe(null, []);
    expect(await settled(a)).toBe(true);
  });

  it("holds one callback at most maxHoldMs", async () => {
    vi.useFakeTimers();
    const { bp } = gate({ maxHoldMs: 2_000 });
    bp.observe(400, ["t1"]);
    let done = false;
    void bp.admit("t1").then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(bp.held).toBe(0);
  });

  it("holds nothing on an observation older than staleMs (a stopped or stuck worker)", () => {
    const { bp, clock } = gate({ staleMs: 2_000 });
    bp.observe(400, ["t1"]);
    clock.t += 2_000;
    expect(bp.holds("t1")).toBe(true);
    clock.t += 1;
    expect(bp.holds("t1")).toBe(false);
    // Stale means released: a fresh lag under the limit does not bring the old state back.
    bp.observe(80, ["t1"]);
    expect(bp.holds("t1")).toBe(false);
  });

  it("never holds when turned off (maxLagMs 0)", () => {
    const { bp } = gate({ maxLagMs: 0 });
    expect(bp.enabled).toBe(false);
    bp.observe(60_000, ["t1"]);
    expect(bp.holds("t1")).toBe(false);
  });

  it("holds a tenant exactly when the last observation since it was clear went past the limit", () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 400 }), { nil: null }), { maxLength: 40 }),
        (lags) => {
          const { bp } = gate({ maxLagMs: 100 });
          let behind = false;
          for (const lag of lags) {
            bp.observe(lag, ["t1"]);
            if (lag === null || lag <= 50) behind = false;
            else if (lag > 100) behind = true;
            expect(bp.holds("t1")).toBe(behind);
          }
        },
      ),
    );
  });
});
