import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics, one registry per app so that tests and several apps do not collide. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    callbacks: new Counter({
      name: "psphub_callbacks_total",
      help: "API-2 callbacks by verdict and error type",
      labelNames: ["verdict", "type"] as const,
      registers: [registry],
    }),
    api1Calls: new Histogram({
      name: "psphub_api1_seconds",
      help: "API-1 call latency by outcome",
      labelNames: ["outcome"] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    callbackBatches: new Histogram({
      name: "psphub_callback_batch_size",
      help: "API-2 callbacks judged and applied together in one transaction (group commit)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    statusQueries: new Counter({
      name: "psphub_status_queries_total",
      help: "API-3 status queries by trigger (schedule, expiry, manual) and outcome (found, not_found, failed)",
      labelNames: ["trigger", "outcome"] as const,
      registers: [registry],
    }),
    payoutSteps: new Counter({
      name: "psphub_payout_steps_total",
      help: "Payout job steps by call (request: API-4, status: the payout status query) and outcome",
      labelNames: ["call", "outcome"] as const,
      registers: [registry],
    }),
    assistanceFlags: new Counter({
      name: "psphub_needs_assistance_total",
      help: "Orders flagged needs assistance when their status-query schedule ended without a final status",
      registers: [registry],
    }),
    callbackHolds: new Histogram({
      name: "psphub_callback_hold_seconds",
      help: "API-2 callbacks held by webhook backpressure, by how long they waited",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    credits: new Counter({
      name: "psphub_credits_total",
      help: "Wallet credits applied",
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
