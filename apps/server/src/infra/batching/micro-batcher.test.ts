import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createMicroBatcher, type MicroBatcherOptions, type Settled } from "./micro-batcher.js";

// The group-commit batcher behind API-2: answers, batch composition, limits and failures.

/** One turn of the event loop: every setImmediate queued before this one has run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const ticks = async (n: number) => {
  for (let i = 0; i < n; i++) await tick();
};

type Deferred<T> = { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A run the test finishes by hand: every call is kept with its items and a deferred answer, and
 * the number of runs in flight (and the most ever) is tracked.
 */
function manualRun<I, O>() {
  const calls: { items: I[]; done: Deferred<Settled<O>[]> }[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  const run = async (items: I[]): Promise<Settled<O>[]> => {
    const done = deferred<Settled<O>[]>();
    calls.push({ items: [...items], done });
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      return await done.promise;
    } finally {
      state.inFlight--;
    }
  };
  return { run, calls, state };
}

const ok = <O>(value: O): Settled<O> => ({ ok: true, value });
const fail = (error: unknown): Settled<never> => ({ ok: false, error });
/** Answers every item of a manual call with a value derived from it. */
const answerAll = <I, O>(call: { items: I[]; done: Deferred<Settled<O>[]> }, f: (i: I) => O) =>
  call.done.resolve(call.items.map((i) => ok(f(i))));

/** The outcome of a promise, once it settled (or "pending" when it has not). */
function track<T>(p: Promise<T>) {
  const s: { state: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = { state: "pending" };
  p.then(
    (value) => Object.assign(s, { state: "fulfilled", value }),
    (error) => Object.assign(s, { state: "rejected", error }),
  );
  return s;
}

describe("createMicroBatcher", () => {
  it("answers each submit with its own result, in order", async () => {
    const batcher = createMicroBatcher<number, string>(async (items) => items.map((i) => ok(`v${i}`)), {
      maxBatch: 10,
      concurrency: 1,
    });
    const out = await Promise.all([5, 3, 9, 1, 7].map((i) => batcher.submit(i)));
    expect(out).toEqual(["v5", "v3", "v9", "v1", "v7"]);
  });

  it("puts items submitted in the same tick (microtasks included) into one run, started after the tick", async () => {
    const m = manualRun<number, number>();
    const batcher = createMicroBatcher(m.run, { maxBatch: 100, concurrency: 4 });
    const answers = [batcher.submit(1), batcher.submit(2)];
    await Promise.resolve();
    answers.push(batcher.submit(3));
    await Promise.resolve().then(() => answers.push(batcher.submit(4)));
    // Nothing has run yet: the run starts after the current phase.
    expect(m.calls).toHaveLength(0);
    await tick();
    expect(m.calls.map((c) => c.items)).toEqual([[1, 2, 3, 4]]);
    answerAll(m.calls[0]!, (i) => i * 10);
    expect(await Promise.all(answers)).toEqual([10, 20, 30, 40]);
    expect(m.calls).toHaveLength(1);
  });

  it("makes items submitted while a run is in flight wait, then go together in the next run", async () => {
    const m = manualRun<string, string>();
    const batcher = createMicroBatcher(m.run, { maxBatch: 100, concurrency: 1 });
    const first = track(batcher.submit("a"));
    await tick();
    expect(m.calls.map((c) => c.items)).toEqual([["a"]]);

    const later = [track(batcher.submit("b")), track(batcher.submit("c"))];
    await tick();
    const last = track(batcher.submit("d"));
    await ticks(3);
    // Still one run: the others wait for it.
    expect(m.calls).toHaveLength(1);
    expect([...later, last].map((s) => s.state)).toEqual(["pending", "pending", "pending"]);

    answerAll(m.calls[0]!, (i) => i.toUpperCase());
    await ticks(2);
    expect(first).toMatchObject({ state: "fulfilled", value: "A" });
    expect(m.calls.map((c) => c.items)).toEqual([["a"], ["b", "c", "d"]]);
    expect([...later, last].map((s) => s.state)).toEqual(["pending", "pending", "pending"]);

    answerAll(m.calls[1]!, (i) => i.toUpperCase());
    await ticks(2);
    expect([...later, last].map((s) => s.value)).toEqual(["B", "C", "D"]);
  });

  it("never has more than `concurrency` runs in flight nor more than `maxBatch` items in a run", async () => {
    const m = manualRun<number, number>();
    const batcher = createMicroBatcher(m.run, { maxBatch: 2, concurrency: 2 });
    const answers = Array.from({ length: 7 }, (_, i) => track(batcher.submit(i)));
    await ticks(3);
    expect(m.calls.map((c) => c.items)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(m.state.inFlight).toBe(2);

    // The second run ends first: its slot takes the next two waiting items.
    answerAll(m.calls[1]!, (i) => i + 100);
    await ticks(3);
    expect(m.calls.map((c) => c.items)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(m.state.inFlight).toBe(2);
    expect(answers.map((a) => a.state)).toEqual([
      "pending",
      "pending",
      "fulfilled",
      "fulfilled",
      "pending",
      "pending",
      "pending",
    ]);

    answerAll(m.calls[0]!, (i) => i + 100);
    await ticks(3);
    expect(m.calls.map((c) => c.items)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    answerAll(m.calls[2]!, (i) => i + 100);
    answerAll(m.calls[3]!, (i) => i + 100);
    await ticks(3);
    expect(answers.map((a) => a.value)).toEqual([100, 101, 102, 103, 104, 105, 106]);
    expect(m.state.maxInFlight).toBe(2);
    expect(m.calls).toHaveLength(4);
  });

  it("splits a burst larger than maxBatch into full runs, one after another with concurrency 1", async () => {
    const sizes: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const batcher = createMicroBatcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick();
        inFlight--;
        return items.map((i) => ok(i + 1));
      },
      { maxBatch: 4, concurrency: 1 },
    );
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)));
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(sizes).toEqual([4, 4, 2]);
    expect(maxInFlight).toBe(1);
  });

  it("rejects every item of a run that throws with its error, and keeps working afterwards", async () => {
    const boom = new Error("the transaction failed");
    let calls = 0;
    const batcher = createMicroBatcher<number, number>(
      async (items) => {
        calls++;
        if (calls === 1) throw boom;
        return items.map((i) => ok(i * 2));
      },
      { maxBatch: 10, concurrency: 1 },
    );
    const failed = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(failed).toEqual([1, 2, 3].map(() => ({ status: "rejected", reason: boom })));
    expect(batcher.pending).toBe(0);
    expect(await Promise.all([4, 5].map((i) => batcher.submit(i)))).toEqual([8, 10]);
    expect(calls).toBe(2);
  });

  it("rejects every item of a run that throws synchronously (not even a promise)", async () => {
    const boom = new Error("sync");
    const batcher = createMicroBatcher<number, number>(
      (() => {
        throw boom;
      }) as unknown as (items: number[]) => Promise<Settled<number>[]>,
      { maxBatch: 10, concurrency: 1 },
    );
    const out = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(out.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(batcher.pending).toBe(0);
  });

  it("rejects only the item a Settled {ok:false} names; the others of its run resolve", async () => {
    const mine = new Error("item 2 failed");
    const batcher = createMicroBatcher<number, number>(
      async (items) => items.map((i) => (i === 2 ? fail(mine) : ok(i * 100))),
      { maxBatch: 10, concurrency: 1 },
    );
    const out = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(out).toEqual([
      { status: "fulfilled", value: 100 },
      { status: "rejected", reason: mine },
      { status: "fulfilled", value: 300 },
    ]);
  });

  it("rejects an item the run gave no result for, and resolves the others", async () => {
    const batcher = createMicroBatcher<number, number>(async (items) => items.slice(0, 1).map((i) => ok(i)), {
      maxBatch: 10,
      concurrency: 1,
    });
    const out = await Promise.allSettled([7, 8].map((i) => batcher.submit(i)));
    expect(out[0]).toEqual({ status: "fulfilled", value: 7 });
    expect(out[1]!.status).toBe("rejected");
    expect(String((out[1] as PromiseRejectedResult).reason)).toMatch(/no result/);
  });

  it("counts items waiting and in flight in `pending`", async () => {
    const m = manualRun<number, number>();
    const batcher = createMicroBatcher(m.run, { maxBatch: 2, concurrency: 1 });
    expect(batcher.pending).toBe(0);
    const first = [batcher.submit(1), batcher.submit(2), batcher.submit(3)];
    expect(batcher.pending).toBe(3);
    await tick();
    // Two in flight, one waiting.
    expect(m.calls.map((c) => c.items)).toEqual([[1, 2]]);
    expect(batcher.pending).toBe(3);
    const fourth = batcher.submit(4);
    expect(batcher.pending).toBe(4);

    answerAll(m.calls[0]!, (i) => i);
    expect(await Promise.all(first.slice(0, 2))).toEqual([1, 2]);
    expect(batcher.pending).toBe(2);
    await tick();
    expect(m.calls.map((c) => c.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    m.calls[1]!.done.reject(new Error("down"));
    await expect(first[2]).rejects.toThrow("down");
    await expect(fourth).rejects.toThrow("down");
    expect(batcher.pending).toBe(0);
  });

  it.each<[string, MicroBatcherOptions]>([
    ["maxBatch 0", { maxBatch: 0, concurrency: 1 }],
    ["concurrency 0", { maxBatch: 1, concurrency: 0 }],
    ["negative maxBatch", { maxBatch: -3, concurrency: 1 }],
    ["negative concurrency", { maxBatch: 1, concurrency: -1 }],
    ["NaN maxBatch", { maxBatch: Number.NaN, concurrency: 1 }],
    ["NaN concurrency", { maxBatch: 1, concurrency: Number.NaN }],
  ])("refuses invalid options (%s)", (_name, opts) => {
    expect(() => createMicroBatcher(async () => [], opts)).toThrow(/must be ≥ 1/);
  });

  it("accepts the smallest valid options (1 and 1): one item per run, one run at a time", async () => {
    const sizes: number[] = [];
    const batcher = createMicroBatcher<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items.map((i) => ok(i));
      },
      { maxBatch: 1, concurrency: 1 },
    );
    expect(await Promise.all([1, 2, 3].map((i) => batcher.submit(i)))).toEqual([1, 2, 3]);
    expect(sizes).toEqual([1, 1, 1]);
  });
});

describe("createMicroBatcher under random schedules (property)", () => {
  /** What a run does with an item: answer it, fail it alone, or (for the whole run) throw. */
  const FAILS = (id: number) => id % 7 === 3;

  it("answers every item exactly once with its own outcome, FIFO, within the limits, and drains fully", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        // The submit schedule: bursts of items, each followed by a pause of some event-loop turns.
        fc.array(fc.record({ count: fc.integer({ min: 0, max: 9 }), gap: fc.integer({ min: 0, max: 3 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        // Per run, in start order: how many turns it takes, and whether it throws.
        fc.array(fc.record({ turns: fc.integer({ min: 0, max: 4 }), throws: fc.boolean() }), {
          minLength: 1,
          maxLength: 20,
        }),
        async (maxBatch, concurrency, bursts, runPlan) => {
          const batches: number[][] = [];
          const violations: string[] = [];
          const thrownBy = new Map<number, Error>();
          let submitted = 0;
          let started = 0;
          let inFlight = 0;
          let maxInFlight = 0;
          const batcher = createMicroBatcher<number, string>(
            async (items) => {
              const runNo = batches.length;
              batches.push([...items]);
              started += items.length;
              // Greedy: a run smaller than maxBatch took everything that was waiting.
              if (items.length < maxBatch && started !== submitted) {
                violations.push(`run ${runNo} took ${items.length} of ${submitted - started + items.length}`);
              }
              if (items.length === 0) violations.push(`run ${runNo} is empty`);
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              const plan = runPlan[runNo % runPlan.length]!;
              try {
                await ticks(plan.turns);
                if (plan.throws) {
                  const err = new Error(`run ${runNo}`);
                  for (const i of items) thrownBy.set(i, err);
                  throw err;
                }
                return items.map((i) => (FAILS(i) ? fail(`item ${i}`) : ok(`value ${i}`)));
              } finally {
                inFlight--;
              }
            },
            { maxBatch, concurrency },
          );

          // Each answer is observed as soon as it is asked for: none may go unhandled while waiting.
          const answers: Promise<PromiseSettledResult<string>>[] = [];
          for (const { count, gap } of bursts) {
            for (let k = 0; k < count; k++) {
              answers.push(
                batcher.submit(submitted).then(
                  (value) => ({ status: "fulfilled", value }) as const,
                  (reason: unknown) => ({ status: "rejected", reason }) as const,
                ),
              );
              submitted++;
            }
            expect(batcher.pending).toBeLessThanOrEqual(submitted);
            await ticks(gap);
          }
          let timer: NodeJS.Timeout | undefined;
          const outcomes = await Promise.race([
            Promise.all(answers),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error("some item was never answered")), 5_000);
            }),
          ]).finally(() => clearTimeout(timer));

          expect(violations).toEqual([]);
          // Every item went into exactly one run, in submission order (FIFO).
          expect(batches.flat()).toEqual(Array.from({ length: submitted }, (_, i) => i));
          for (const b of batches) expect(b.length).toBeLessThanOrEqual(maxBatch);
          expect(maxInFlight).toBeLessThanOrEqual(concurrency);
          // Every item got its own outcome.
          outcomes.forEach((o, i) => {
            const thrown = thrownBy.get(i);
            if (thrown) expect(o).toEqual({ status: "rejected", reason: thrown });
            else if (FAILS(i)) expect(o).toEqual({ status: "rejected", reason: `item ${i}` });
            else expect(o).toEqual({ status: "fulfilled", value: `value ${i}` });
          });
          expect(batcher.pending).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);

  it("uses the allowed concurrency when the load needs it (a burst of many items with slow runs)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        async (maxBatch, concurrency) => {
          let inFlight = 0;
          let maxInFlight = 0;
          const batcher = createMicroBatcher<number, number>(
            async (items) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              await ticks(3);
              inFlight--;
              return items.map((i) => ok(i));
            },
            { maxBatch, concurrency },
          );
          const n = maxBatch * concurrency * 2;
          const out = await Promise.all(Array.from({ length: n }, (_, i) => batcher.submit(i)));
          expect(out).toEqual(Array.from({ length: n }, (_, i) => i));
          expect(maxInFlight).toBe(concurrency);
        },
      ),
      { numRuns: 30 },
    );
  });
});
