import { WEBHOOK_HEADERS } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { newId } from "../../common/ids.js";
import { type JobLoop, startJobLoop } from "../../infra/jobs/job-loop.js";
import type { DeliveryBackpressure } from "./delivery-backpressure.js";
import {
  type AttemptToRecord,
  type ClaimedDelivery,
  claimDeliveries,
  deliveryLag,
  promoteWaiting,
  recordAttempts,
} from "./delivery-repo.js";
import {
  ATTEMPT_TIMEOUT_MS,
  type AttemptAnswer,
  DISABLE_AFTER_MS,
  judgeAttempt,
  nextAttemptAt,
} from "./retry-policy.js";
import { webhookBody } from "./webhook-body.js";

/**
 * The webhook delivery worker of one process (docs/webhooks.md#delivery): claims due deliveries
 * (delivery-repo.ts, the job mechanism of infra/jobs shared with the status-query scheduler),
 * signs and posts a batch with no transaction open, then records its attempts in one commit. At least once: a
 * process that dies between the POST and the record leaves the claim to expire, and the delivery
 * is sent again with the same `webhook-id`, which the receiver deduplicates on.
 */

export type DeliveryDeps = Pick<AppContext, "db" | "clock" | "logger" | "webhookSigner" | "httpOut"> & {
  /** The jitter's source, in [0, 1) (tests fix it). */
  random?: () => number;
};

/** A claim's lease: the attempt's timeout plus a margin for signing and recording. */
export const DELIVERY_LEASE_MS = ATTEMPT_TIMEOUT_MS + 15_000;
/** The answer's body kept in the log. */
const LOGGED_BODY_CHARS = 1024;
/** Read at most this much of an answer (the guarded client aborts beyond; it is then a failure). */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Signs and sends one claimed delivery: the attempt to record (never throws). */
async function send(deps: DeliveryDeps, c: ClaimedDelivery): Promise<AttemptToRecord> {
  const now = deps.clock.now();
  const secrets = [c.secretEnc];
  if (c.previousSecretEnc !== null && c.previousExpiresAt !== null && c.previousExpiresAt > now)
    secrets.push(c.previousSecretEnc);
  const body = webhookBody(c.event);
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "psphub-webhooks/1",
    [WEBHOOK_HEADERS.id]: c.eventId,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: deps.webhookSigner.sign({ id: c.eventId, timestamp, body }, secrets),
  };
  const res = await deps.httpOut.request({
    url: c.url,
    method: "POST",
    headers,
    body,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
    maxBodyBytes: MAX_ANSWER_BYTES,
  });
  const at = deps.clock.now();
  const answer: AttemptAnswer = res.ok
    ? { kind: "answer", status: res.status, retryAfter: res.headers["retry-after"] }
    : { kind: "no_answer", reason: res.reason };
  const verdict = judgeAttempt(answer, at);
  const random = (deps.random ?? Math.random)();
  return {
    claim: c,
    attempt: {
      id: newId(),
      requestHeaders: headers,
      responseStatus: res.ok ? res.status : null,
      responseHeaders: res.ok ? res.headers : null,
      responseBody: res.ok ? res.bodyText.slice(0, LOGGED_BODY_CHARS) : null,
      error: res.ok ? null : `${res.reason}: ${res.detail}`,
      latencyMs: res.latencyMs,
      now: at,
    },
    decide: ({ failingSince, attempts }) => {
      if (verdict.kind === "delivered") return { kind: "delivered" };
      const notBefore = verdict.kind === "failed" ? verdict.notBefore : undefined;
      const retryAt = nextAttemptAt(attempts, at, random, notBefore);
      if (verdict.kind === "gone") return { kind: "disable", reason: "gone", retryAt };
      if (at - (failingSince ?? at) >= DISABLE_AFTER_MS)
        return { kind: "disable", reason: "failing", retryAt };
      return retryAt === null ? { kind: "give_up" } : { kind: "retry", at: retryAt };
    },
  };
}

/**
 * Sends a batch of claimed deliveries at once, then records every attempt in one transaction
 * (never throws: a batch that cannot be recorded waits for its leases and is sent again).
 */
export async function deliverBatch(deps: DeliveryDeps, batch: readonly ClaimedDelivery[]): Promise<void> {
  try {
    const sent = await Promise.all(batch.map((c) => send(deps, c)));
    const recorded = await recordAttempts(deps.db, sent);
    recorded.forEach((r, i) => {
      if (r.disabled)
        deps.logger.warn(
          { endpointId: batch[i]?.endpointId, reason: r.decision },
          "webhook endpoint disabled",
        );
    });
  } catch (err) {
    deps.logger.error({ err, deliveries: batch.length }, "webhook delivery batch failed to run");
  }
}

/**
 * Claims up to `limit` due deliveries, as batches of at most `batchSize` to one endpoint each
 * (a slow endpoint holds up the record of its own batch only).
 */
async function claimBatches(
  deps: DeliveryDeps,
  limit: number,
  batchSize: number,
  leaseMs: number,
  backpressure?: DeliveryBackpressure,
): Promise<ClaimedDelivery[][]> {
  await sweep(deps);
  const claims = await claimDeliveries(deps.db, deps.clock.now(), limit, leaseMs);
  backpressure?.claimed(claims.map((c) => c.tenantId));
  const byEndpoint = new Map<string, ClaimedDelivery[]>();
  for (const c of claims) byEndpoint.set(c.endpointId, [...(byEndpoint.get(c.endpointId) ?? []), c]);
  const batches: ClaimedDelivery[][] = [];
  for (const list of byEndpoint.values())
    for (let i = 0; i < list.length; i += batchSize) batches.push(list.slice(i, i + batchSize));
  return batches;
}

/** How often a process looks for waiting deliveries that nothing holds back (delivery-repo.ts). */
const SWEEP_EVERY_MS = 2_000;
const lastSweep = new WeakMap<object, number>();
async function sweep(deps: DeliveryDeps): Promise<void> {
  const now = deps.clock.now();
  if (now - (lastSweep.get(deps.db) ?? Number.NEGATIVE_INFINITY) < SWEEP_EVERY_MS) return;
  lastSweep.set(deps.db, now);
  await promoteWaiting(deps.db, now);
}

/** Claims up to `limit` due deliveries and sends them; resolves when all are recorded (tests). */
export async function runDueDeliveries(deps: DeliveryDeps, limit: number): Promise<number> {
  const batches = await claimBatches(deps, limit, limit, DELIVERY_LEASE_MS);
  await Promise.all(batches.map((b) => deliverBatch(deps, b)));
  return batches.reduce((n, b) => n + b.length, 0);
}

/** Deliveries per batch at most (one record transaction each). */
const BATCH_SIZE = 32;
/** The worker's own PostgreSQL connections (main.ts): a claim and the records of the batches in flight. */
export const DELIVERY_POOL_SIZE = 4;

/**
 * The loop of one process (infra/jobs/job-loop.ts): at most `concurrency` deliveries in flight,
 * as batches of at most {@link BATCH_SIZE}.
 */
export function startDeliveryWorker(
  deps: DeliveryDeps,
  opts: { pollMs: number; concurrency: number; leaseMs?: number; backpressure?: DeliveryBackpressure },
): JobLoop {
  const leaseMs = opts.leaseMs ?? DELIVERY_LEASE_MS;
  const batchSize = Math.min(BATCH_SIZE, opts.concurrency);
  const observer = opts.backpressure?.enabled ? observeLag(deps, opts.backpressure) : undefined;
  const loop = startJobLoop({
    pollMs: opts.pollMs,
    concurrency: Math.max(1, Math.floor(opts.concurrency / batchSize)),
    claim: (free) => claimBatches(deps, free * batchSize, batchSize, leaseMs, opts.backpressure),
    run: (b) => deliverBatch(deps, b),
    onClaimError: (err) => deps.logger.error({ err }, "webhook delivery claim failed"),
  });
  return {
    nudge: loop.nudge,
    async stop() {
      observer?.stop();
      await loop.stop();
    },
  };
}

/** How often the worker measures its lag for backpressure: a fraction of the lag it keeps to. */
const OBSERVE_EVERY_MS = 50;

/** Measures the delivery lag every {@link OBSERVE_EVERY_MS}, one read at a time, for `backpressure`. */
function observeLag(deps: DeliveryDeps, backpressure: DeliveryBackpressure): { stop(): void } {
  let reading = false;
  const timer = setInterval(async () => {
    if (reading) return;
    reading = true;
    try {
      const lag = await deliveryLag(deps.db, deps.clock.now());
      backpressure.observe(lag?.lagMs ?? null, lag ? [lag.tenantId] : []);
    } catch (err) {
      deps.logger.error({ err }, "webhook delivery lag could not be read");
    } finally {
      reading = false;
    }
  }, OBSERVE_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
