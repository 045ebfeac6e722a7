import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { DepositEvent } from "./deposit-events.js";
import { timelineEvent } from "./deposit-schemas.js";

type KindAndData<T> = T extends { kind: infer K; data: infer D } ? { kind: K; data: D } : never;

describe("the timeline's response schema", () => {
  it("is deposit-events.ts's union, kind for kind and field for field (checked by tsc)", () => {
    expectTypeOf<KindAndData<z.output<typeof timelineEvent>>>().toEqualTypeOf<DepositEvent>();
  });

  it("is a discriminated union in the OpenAPI document: one variant per kind, none generic", () => {
    const kinds = timelineEvent.options.map((o) => o.shape.kind.value);
    expect(kinds.sort()).toEqual(
      [
        "api1_call",
        "callback",
        "created",
        "ledger",
        "manual",
        "review",
        "status_change",
        "status_query",
      ].sort(),
    );
  });

  it("keeps each kind's fields and drops what no kind declares", () => {
    const event = {
      id: "e1",
      kind: "ledger",
      createdAt: 1,
      data: { entryId: "l1", walletId: "w1", amount: "10.00", currency: "USD", secret: "x" },
    };
    expect(timelineEvent.parse(event)).toEqual({
      ...event,
      data: { entryId: "l1", walletId: "w1", amount: "10.00", currency: "USD" },
    });
    expect(timelineEvent.safeParse({ ...event, kind: "created" }).success).toBe(false);
  });
});
