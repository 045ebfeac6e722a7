import autocannon from "autocannon";
import { Pool } from "undici";

/**
 * autocannon, driven programmatically: each request takes the next body from a generator, so a
 * run can send one distinct pre-signed callback per order. Latencies are recorded here from
 * every response's own timing (fractional ms, exact percentiles) rather than autocannon's
 * integer-ms histogram; coordinated omission is not corrected (closed-loop runs don't need it,
 * and B3's fixed-rate runs stay far below saturation).
 */

export type LoadOptions = {
  url: string;
  path: string;
  method?: "POST" | "GET";
  headers?: Record<string, string>;
  /** The i-th request's body (i from 0; below maxRequests when that is given). */
  body?: (i: number) => string | undefined;
  connections: number;
  /** Seconds; the run also ends when `maxRequests` were sent. */
  durationS: number;
  maxRequests?: number;
  /** Requests per second over all connections (open loop), e.g. 200 for B3. */
  overallRate?: number;
  /** Told every answer with its request's index. */
  onResponse?: (i: number, status: number) => void;
};

export type LoadResult = {
  requests: number;
  /** Answers per second over the run's wall-clock time. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  elapsedS: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
};

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  let next = 0;
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const statuses: Record<string, number> = {};
  const record = (ms: number) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = ms;
  };

  let instance: autocannon.Instance | undefined;
  let stopped = false;
  const stop = () => {
    if (!stopped && instance) {
      stopped = true;
      instance.stop();
    }
  };
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        // A fixed count (each connection sends its share) ends the run; so does the timer below.
        ...(o.maxRequests !== undefined ? { amount: o.maxRequests } : { duration: o.durationS }),
        ...(o.overallRate ? { overallRate: o.overallRate } : {}),
        timeout: 30,
        requests: [
          {
            method: o.method ?? "POST",
            path: o.path,
            headers: o.headers ?? {},
            setupRequest: (req: autocannon.Request, context: Record<string, unknown>) => {
              const i = next++;
              context.i = i;
              const body = o.body?.(i);
              return { ...req, ...(body !== undefined ? { body } : {}) };
            },
            onResponse: (status: number, _body: string, context: Record<string, unknown>) => {
              if (typeof context.i === "number") o.onResponse?.(context.i, status);
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    const timer = setTimeout(stop, o.durationS * 1000);
    instance.on("done", () => clearTimeout(timer));
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      record(ms);
    });
  });
  return summarise(latencies.slice(0, count), (performance.now() - started) / 1000, {
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  });
}

/** Percentiles and rates of a run from every answer's latency (ms). */
function summarise(
  latencies: Float64Array,
  elapsedS: number,
  counts: Pick<LoadResult, "statuses" | "errors" | "timeouts">,
): LoadResult {
  const sorted = latencies.sort();
  const count = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    requests: count,
    rps: count / elapsedS,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[count - 1] ?? Number.NaN,
    mean: sum / count,
    elapsedS,
    ...counts,
  };
}

export type PacedOptions = {
  url: string;
  path: string;
  method?: "POST" | "GET";
  headers?: Record<string, string>;
  /** The i-th request's body (none for a GET). */
  body?: (i: number) => string;
  /** Requests per second, evenly spaced: request i is due at start + i / rate. */
  rate: number;
  durationS: number;
  /** Most requests in flight (connections of the pool); a request due while all are busy waits. */
  connections: number;
};

/**
 * A constant-arrival-rate (open-loop) generator, wrk2's model: request i is due at
 * `start + i / rate` and its latency is measured **from when it was due**, so a server (or a
 * generator) that falls behind is charged for the wait (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: autocannon lets each connection send its per-second quota
 * back to back and then pauses it until the next one-second tick (lib/httpClient.js, the
 * `rateInterval` and `reqsMadeThisSecond`), so "200/s over 10 connections" is a burst of 200
 * requests at the start of every second, 10 at a time: its latencies measure how long the burst
 * queues, not what one request at 200/s costs. Both are reported (bench/run.ts, B3).
 */
export async function runPaced(o: PacedOptions): Promise<LoadResult> {
  return pooled([await pacedSamples(o)]);
}

/** One paced run's raw answers, to be pooled with others (see {@link pooled}). */
export type PacedSamples = {
  latencies: Float64Array;
  elapsedS: number;
  statuses: Record<string, number>;
  errors: number;
};

/** The figures of several paced runs taken as one: their answers pooled, their times added. */
export function pooled(runs: readonly PacedSamples[]): LoadResult {
  const all = new Float64Array(runs.reduce((n, r) => n + r.latencies.length, 0));
  const statuses: Record<string, number> = {};
  let at = 0;
  for (const r of runs) {
    all.set(r.latencies, at);
    at += r.latencies.length;
    for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  }
  return summarise(
    all,
    runs.reduce((t, r) => t + r.elapsedS, 0),
    { statuses, errors: runs.reduce((e, r) => e + r.errors, 0), timeouts: 0 },
  );
}

/** {@link runPaced}'s answers, unsummarised. */
export async function pacedSamples(o: PacedOptions): Promise<PacedSamples> {
  const pool = new Pool(o.url, { connections: o.connections, pipelining: 1 });
  const total = Math.max(1, Math.round(o.rate * o.durationS));
  const interval = 1000 / o.rate;
  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  let count = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (i: number, due: number) => {
    const p = (async () => {
      try {
        const res = await pool.request({
          path: o.path,
          method: o.method ?? "POST",
          headers: o.headers ?? {},
          body: o.body?.(i),
        });
        await res.body.dump();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        latencies[count++] = performance.now() - due;
      } catch {
        errors++;
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const started = performance.now();
  let i = 0;
  try {
    while (i < total) {
      const now = performance.now();
      // Every request that is due by now goes out (a late timer sends its backlog at once).
      while (i < total && started + i * interval <= now) {
        send(i, started + i * interval);
        i++;
      }
      if (i < total) {
        const wait = started + i * interval - performance.now();
        await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      }
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  return {
    latencies: latencies.slice(0, count),
    elapsedS: (performance.now() - started) / 1000,
    statuses,
    errors,
  };
}
