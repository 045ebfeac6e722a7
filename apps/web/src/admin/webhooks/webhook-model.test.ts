import { describe, expect, it } from "vitest";
import {
  emptyEndpointValues,
  endpointBody,
  endpointErrors,
  endpointValuesOf,
  localInputOf,
  msOfLocalInput,
  replayPercent,
  successRateText,
} from "./webhook-model.js";

describe("the endpoint form", () => {
  it("sends * for every event type, else the chosen list, and reads an endpoint back", () => {
    const v = { ...emptyEndpointValues(), url: " https://risk.example.com/h ", description: " Risk " };
    expect(endpointBody(v)).toEqual({
      url: "https://risk.example.com/h",
      description: "Risk",
      eventTypes: ["*"],
    });
    expect(endpointBody({ ...v, allEvents: false, types: ["wallet.credited"] }).eventTypes).toEqual([
      "wallet.credited",
    ]);
    expect(endpointValuesOf({ url: "u", description: "d", eventTypes: ["*"] })).toMatchObject({
      allEvents: true,
      types: [],
    });
    expect(endpointValuesOf({ url: "u", description: "d", eventTypes: ["a", "b"] })).toMatchObject({
      allEvents: false,
      types: ["a", "b"],
    });
  });

  it("asks for a URL, an http(s) one, and at least one type when not all", () => {
    expect(endpointErrors(emptyEndpointValues())).toEqual({ url: "webhooks.form.urlRequired" });
    expect(endpointErrors({ ...emptyEndpointValues(), url: "ftp://x" }).url).toBe("webhooks.form.urlInvalid");
    expect(endpointErrors({ ...emptyEndpointValues(), url: "https://x.example", allEvents: false })).toEqual({
      types: "webhooks.form.typesRequired",
    });
    expect(endpointErrors({ ...emptyEndpointValues(), url: "https://x.example" })).toEqual({});
  });
});

describe("figures", () => {
  it("reads a success rate without rounding a failure up to 100 %", () => {
    expect(successRateText(null)).toBeNull();
    expect(successRateText(1)).toBe("100 %");
    expect(successRateText(0.9999)).toBe("99.9 %");
    expect(successRateText(0.5)).toBe("50 %");
    expect(successRateText(0)).toBe("0 %");
  });

  it("gives a replay's progress", () => {
    expect(replayPercent({ total: 0, done: 0, state: "done" })).toBe(100);
    expect(replayPercent({ total: 1000, done: 500, state: "running" })).toBe(50);
    expect(replayPercent({ total: 3, done: 3, state: "done" })).toBe(100);
  });

  it("turns a datetime-local value into epoch ms and back", () => {
    const ms = new Date(2026, 11, 5, 9, 30).getTime();
    expect(localInputOf(ms)).toBe("2026-12-05T09:30");
    expect(msOfLocalInput("2026-12-05T09:30")).toBe(ms);
    expect(msOfLocalInput("yesterday")).toBeNull();
  });
});
