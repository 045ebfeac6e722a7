/** One item's result from a batch: its value, or the error that failed this item only. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

export type MicroBatcherOptions = {
  /** Most items handed to one run. */
  maxBatch: number;
  /** Most runs in flight at once (1 on SQLite: one writer). */
  concurrency: number;
};

export interface MicroBatcher<I, O> {
  submit(item: I): Promise<O>;
  /** Items waiting or in flight. */
  readonly pending: number;
}

/**
 * Natural batching (group commit): items submitted while a run is in flight wait for the next
 * run, which takes all of them (up to `maxBatch`) at once. An idle batcher starts a run right
 * after the current I/O phase (`setImmediate`), so a lone item waits for nothing but the
 * requests that arrived with it, and under load every run carries what queued during the last.
 *
 * `run` answers each item in order. When `run` itself throws, every item of that run fails.
 */
export function createMicroBatcher<I, O>(
  run: (items: I[]) => Promise<Settled<O>[]>,
  opts: MicroBatcherOptions,
): MicroBatcher<I, O> {
  if (!(opts.maxBatch >= 1 && opts.concurrency >= 1)) throw new Error("maxBatch and concurrency must be ≥ 1");
  type Waiting = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void };
  let queue: Waiting[] = [];
  let running = 0;
  let inFlight = 0;
  let scheduled = false;

  const schedule = () => {
    if (scheduled || queue.length === 0 || running >= opts.concurrency) return;
    scheduled = true;
    setImmediate(drain);
  };

  const drain = () => {
    scheduled = false;
    while (queue.length > 0 && running < opts.concurrency) {
      const batch = queue.length <= opts.maxBatch ? queue : queue.slice(0, opts.maxBatch);
      queue = queue.length <= opts.maxBatch ? [] : queue.slice(opts.maxBatch);
      running++;
      void runOne(batch);
    }
  };

  const runOne = async (batch: Waiting[]) => {
    try {
      const results = await run(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        const r = results[i];
        if (!r) w.reject(new Error("the batch gave no result for this item"));
        else if (r.ok) w.resolve(r.value);
        else w.reject(r.error);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight -= batch.length;
      running--;
      schedule();
    }
  };

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        inFlight++;
        schedule();
      });
    },
    get pending() {
      return inFlight;
    },
  };
}
