import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RETRY_DELAYS_MS } from "./retry-policy.js";
import { WEBHOOK_EVENT_TYPES } from "./webhook-event-types.js";

const doc = readFileSync(new URL("../../../../../docs/webhooks.md", import.meta.url), "utf8");

describe("docs/webhooks.md", () => {
  it("lists every event type the server sends", () => {
    const table = doc.slice(doc.indexOf("## Event types"), doc.indexOf("## Delivery"));
    for (const { type } of WEBHOOK_EVENT_TYPES) expect(table).toContain(`\`${type}\``);
  });

  it("gives the retry schedule the worker follows", () => {
    const human = (ms: number) =>
      ms < 60_000 ? `${ms / 1000} s` : ms < 3600_000 ? `${ms / 60_000} min` : `${ms / 3600_000} h`;
    expect(doc).toContain(`| next attempt in | ${RETRY_DELAYS_MS.map(human).join(" | ")} |`);
  });
});
