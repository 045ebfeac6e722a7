/** Thrown by `Limiter.run` when its queue is full: the task was never started. */
export class LimiterFullError extends Error {
  constructor() {
    super("the limiter's queue is full");
    this.name = "LimiterFullError";
  }
}

export type LimiterOptions = {
  /** Most tasks running at once (≥ 1). */
  concurrency: number;
  /** Most tasks waiting for a slot (≥ 0); one more is refused with LimiterFullError. */
  maxQueue: number;
};

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Tasks started and not yet settled. */
  readonly running: number;
  /** Tasks waiting for a slot. */
  readonly waiting: number;
}

/**
 * A counting semaphore with a bounded FIFO queue. `run` starts the task at once (synchronously)
 * when fewer than `concurrency` run, queues it otherwise, and starts queued tasks in the order
 * they came as slots free up. With `maxQueue` tasks waiting, `run` rejects with LimiterFullError
 * without calling the task. The returned promise settles as the task's does (a task that throws
 * synchronously rejects it). A task that never settles keeps its slot: give it its own timeout.
 */
export function createLimiter(opts: LimiterOptions): Limiter {
  const { concurrency, maxQueue } = opts;
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && Number.isInteger(maxQueue) && maxQueue >= 0))
    throw new Error("concurrency must be an integer ≥ 1 and maxQueue an integer ≥ 0");
  // Bounded by maxQueue, so shift() stays cheap.
  const queue: (() => void)[] = [];
  let running = 0;

  const release = () => {
    running--;
    queue.shift()?.();
  };

  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          running++;
          let settled: Promise<T>;
          try {
            settled = Promise.resolve(task());
          } catch (err) {
            settled = Promise.reject(err);
          }
          settled.then(resolve, reject).finally(release);
        };
        if (running < concurrency) start();
        else if (queue.length < maxQueue) queue.push(start);
        else reject(new LimiterFullError());
      });
    },
    get running() {
      return running;
    },
    get waiting() {
      return queue.length;
    },
  };
}
