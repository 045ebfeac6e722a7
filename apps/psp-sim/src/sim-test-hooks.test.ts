import { afterEach, describe, expect, it } from "vitest";
import { closeAll, eventually, setup } from "./test-support.js";

// The test hooks (docs/certify.md#test-hooks): a test order (x-psphub-test: 1) of a magic amount
// settles by itself right after API-1, as if the client had pressed a button.
afterEach(closeAll);

const statusesOf = (
  cbs: Array<{ parsed: { ok: boolean; callback?: { orderNo: string; status: number } } }>,
  orderNo: string,
) =>
  cbs
    .filter((c) => c.parsed.ok && c.parsed.callback?.orderNo === orderNo)
    .map((c) => c.parsed.callback!.status);

describe("the simulator's test hooks", () => {
  it("10.01 pays, 10.02 declines, 10.03 is processing then paid", async () => {
    const { api1, crm, callbacks } = await setup();
    const paid = await api1({ amount: 10.01 }, { test: true });
    const declined = await api1({ amount: 10.02 }, { test: true });
    const processing = await api1({ amount: 10.03 }, { test: true });
    for (const r of [paid, declined, processing]) expect(r.json.result).toBe(true);
    await eventually(() => crm.orders.get(processing.orderNo)?.status === "succeeded");
    await eventually(() => crm.orders.get(paid.orderNo)?.status === "succeeded");
    await eventually(() => crm.orders.get(declined.orderNo)?.status === "failed");
    expect(statusesOf(callbacks(), processing.orderNo)).toEqual([2, 1]);
    expect(statusesOf(callbacks(), paid.orderNo)).toEqual([1]);
  });

  it("10.04 reports a payment of 10.00", async () => {
    const { api1, callbacks } = await setup();
    const r = await api1({ amount: 10.04 }, { test: true });
    await eventually(() => statusesOf(callbacks(), r.orderNo).length === 1);
    const [cb] = callbacks().filter((c) => c.parsed.ok && c.parsed.callback.orderNo === r.orderNo);
    expect(cb!.parsed.ok && cb!.parsed.callback).toMatchObject({ status: 1, amountText: "10.00" });
  });

  it("does nothing for a magic amount without the test header, or a test order of another amount", async () => {
    const { api1, crm, callbacks } = await setup();
    const real = await api1({ amount: 10.01 });
    const other = await api1({ amount: 10.05 }, { test: true });
    const marker = await api1({ amount: 10.02 }, { test: true });
    await eventually(() => crm.orders.get(marker.orderNo)?.status === "failed");
    expect(statusesOf(callbacks(), real.orderNo)).toEqual([]);
    expect(statusesOf(callbacks(), other.orderNo)).toEqual([]);
  });
});
