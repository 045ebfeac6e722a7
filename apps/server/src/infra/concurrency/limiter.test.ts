import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLimiter, LimiterFullError } from "./limiter.js";

/** Lets every pending promise callback run (the limiter hands slots on in microtasks). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

type Outcome =
  | { state: "pending" }
  | { state: "fulfilled"; value: unknown }
  | { state: "rejected"; error: unknown };

/**
 * Tasks the test finishes by hand: each records when it started, and the most tasks ever
 * running together is tracked.
 */
function manualTasks() {
  const started: number[] = [];
  const finishers = new Map<number, { ok: (v: unknown) => void; fail: (e: unknown) => void }>();
  const state = { running: 0, maxRunning: 0 };
  const task = (id: number) => () => {
    started.push(id);
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    return new Promise<unknown>((ok, fail) => finishers.set(id, { ok, fail })).finally(() => {
      state.running--;
    });
  };
  return { started, finishers, state, task };
}

function track(p: Promise<unknown>): Outcome {
  const o: Outcome = { state: "pending" };
  p.then(
    (value) => Object.assign(o, { state: "fulfilled", value }),
    (error) => Object.assign(o, { state: "rejected", error }),
  );
  return o;
}

describe("limiter: a bounded FIFO counting semaphore", () => {
  it("never runs more than its cap, starts waiting tasks in arrival order, refuses beyond the queue, and settles every admitted task as the task did", async () => {
    const op = fc.oneof(
      fc.constant({ kind: "submit" as const }),
      fc.record({ kind: fc.constant("finish" as const), pick: fc.nat(), ok: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(op, { maxLength: 60 }),
        async (concurrency, maxQueue, ops) => {
          const limiter = createLimiter({ concurrency, maxQueue });
          const m = manualTasks();
          const admitted: number[] = [];
          const outcomes = new Map<number, Outcome>();
          const expected = new Map<number, { ok: boolean; v: unknown }>();
          let next = 0;
          for (const o of ops) {
            if (o.kind === "submit") {
              const id = next++;
              const full = limiter.running === concurrency && limiter.waiting === maxQueue;
              const out = track(limiter.run(m.task(id)));
              await flush();
              if (full) {
                expect(out.state).toBe("rejected");
                expect((out as { error: unknown }).error).toBeInstanceOf(LimiterFullError);
                expect(m.started).not.toContain(id);
              } else {
                admitted.push(id);
                outcomes.set(id, out);
              }
            } else {
              const live = [...m.finishers.keys()];
              if (live.length === 0) continue;
              const id = live[o.pick % live.length] as number;
              const f = m.finishers.get(id);
              m.finishers.delete(id);
              const v = `${o.ok ? "value" : "error"} ${id}`;
              expected.set(id, { ok: o.ok, v });
              if (o.ok) f?.ok(v);
              else f?.fail(new Error(v));
              await flush();
            }
            expect(m.state.running).toBeLessThanOrEqual(concurrency);
            expect(limiter.running).toBe(m.state.running);
            // A slot is never left idle while a task waits.
            expect(limiter.waiting === 0 || limiter.running === concurrency).toBe(true);
            expect(m.started).toEqual(admitted.slice(0, m.started.length));
          }
          // Finish whatever is left, in any order: every admitted task settles as its task did.
          while (m.finishers.size > 0) {
            for (const [id, f] of [...m.finishers]) {
              m.finishers.delete(id);
              expected.set(id, { ok: true, v: `value ${id}` });
              f.ok(`value ${id}`);
            }
            await flush();
          }
          expect(m.started).toEqual(admitted);
          for (const id of admitted) {
            const out = outcomes.get(id) as Outcome;
            const want = expected.get(id);
            if (want?.ok) expect(out).toMatchObject({ state: "fulfilled", value: want.v });
            else expect((out as { error: Error }).error?.message).toBe(want?.v);
          }
          expect(limiter.running).toBe(0);
          expect(limiter.waiting).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a task that throws synchronously rejects its own call and frees its slot", async () => {
    const limiter = createLimiter({ concurrency: 1, maxQueue: 1 });
    const boom = () => {
      throw new Error("boom");
    };
    await expect(limiter.run(boom)).rejects.toThrow("boom");
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
    expect(limiter.running).toBe(0);
  });

  it("refuses a cap below 1 or a negative queue", () => {
    for (const bad of [
      { concurrency: 0, maxQueue: 1 },
      { concurrency: 1.5, maxQueue: 1 },
      { concurrency: 1, maxQueue: -1 },
    ])
      expect(() => createLimiter(bad), JSON.stringify(bad)).toThrow();
  });
});
