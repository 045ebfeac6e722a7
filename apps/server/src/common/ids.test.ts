import { describe, expect, it } from "vitest";
import { newId } from "./ids.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newId", () => {
  it("is a UUIDv7 whose first 48 bits are the wall-clock milliseconds", () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    const ms = Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);
    // The sequence may carry an id at most a few ms ahead of the clock under a burst.
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after + 50);
  });

  it("sorts in creation order and never repeats, even thousands within one millisecond", () => {
    const ids = Array.from({ length: 50_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(UUID_V7);
  });

  it("keeps 62 random bits: ids made in the same millisecond differ beyond the sequence", () => {
    const ids = Array.from({ length: 200 }, () => newId().replaceAll("-", "").slice(16));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
