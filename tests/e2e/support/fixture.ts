import { afterAll, beforeAll } from "vitest";
import { launchBrowser, type RunningBrowser } from "./chromium.js";
import { type Stack, seedPaymentSetup, startStack } from "./stack.js";

export type PaymentSetup = Awaited<ReturnType<typeof seedPaymentSetup>>;

/** What a seeded browser suite works with: the stack, its API-made payment setup, and Chromium. */
export interface SeededStack {
  stack: Stack;
  setup: PaymentSetup;
  chrome: RunningBrowser;
}

/**
 * Registers the set-up every seeded browser suite shares: before all, a fresh stack for `slug`,
 * the payment setup made through the API (`seedPaymentSetup`) and a Chromium; after all, both
 * closed again. The object returned is filled in before the suite's own `beforeAll` hooks run
 * (vitest runs them in the order they were registered), so call this first in the `describe`.
 */
export function useSeededStack(slug: string): SeededStack {
  const fixture = {} as SeededStack;
  beforeAll(async () => {
    fixture.stack = await startStack(slug);
    fixture.setup = await seedPaymentSetup(fixture.stack);
    fixture.chrome = await launchBrowser();
  });
  afterAll(async () => {
    await fixture.chrome?.close();
    await fixture.stack?.close();
  });
  return fixture;
}
