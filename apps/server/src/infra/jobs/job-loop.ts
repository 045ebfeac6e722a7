/**
 * The loop of one background job kind in one process: every `pollMs` (and at once on
 * {@link JobLoop.nudge}), claims as many due jobs as it has free slots (at most `concurrency`
 * in flight) and starts them. Freed slots are filled at once, not at the next tick, so a backlog
 * drains at the speed of the jobs; once half are free, so that one claim takes several jobs.
 * `claim` runs one at a time; `run` must not throw (a failed job logs and waits for its lease).
 */
export type JobLoop = {
  /** Claims now rather than at the next tick: work was just committed in this process. */
  nudge(): void;
  /** Stops claiming and waits for the jobs in flight. */
  stop(): Promise<void>;
};

export function startJobLoop<C>(opts: {
  pollMs: number;
  concurrency: number;
  claim: (free: number) => Promise<readonly C[]>;
  run: (job: C) => Promise<void>;
  onClaimError: (err: unknown) => void;
}): JobLoop {
  const inFlight = new Set<Promise<void>>();
  let claiming = false;
  let again = false;
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = true;
    try {
      const free = opts.concurrency - inFlight.size;
      const jobs = free > 0 ? await opts.claim(free) : [];
      for (const job of jobs) {
        const p: Promise<void> = opts
          .run(job)
          .catch(opts.onClaimError)
          .finally(() => {
            inFlight.delete(p);
            if (inFlight.size <= opts.concurrency / 2) void tick();
          });
        inFlight.add(p);
      }
    } catch (err) {
      opts.onClaimError(err);
    } finally {
      claiming = false;
    }
    if (again) {
      again = false;
      await tick();
    }
  };
  const timer = setInterval(tick, opts.pollMs);
  timer.unref();
  return {
    nudge: () => void tick(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (claiming) await new Promise((r) => setTimeout(r, 5));
      await Promise.all([...inFlight]);
    },
  };
}
