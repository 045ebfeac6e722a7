import { signWebhook, WEBHOOK_HEADERS } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { newId } from "../../common/ids.js";
import { type JobLoop, startJobLoop } from "../../infra/jobs/job-loop.js";
import { type ClaimedDelivery, claimDeliveries, recordAttempt } from "./delivery-repo.js";
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
 * signs and posts each with no transaction open, then records the attempt. At least once: a
 * process that dies between the POST and the record leaves the claim to expire, and the delivery
 * is sent again with the same `webhook-id`, which the receiver deduplicates on.
 */

export type DeliveryDeps = Pick<AppContext, "db" | "clock" | "logger" | "secretBox" | "httpOut"> & {
  /** The jitter's source, in [0, 1) (tests fix it). */
  random?: () => number;
};

/** A claim's lease: the attempt's timeout plus a margin for signing and recording. */
export const DELIVERY_LEASE_MS = ATTEMPT_TIMEOUT_MS + 15_000;
/** The answer's body kept in the log. */
const LOGGED_BODY_CHARS = 1024;
/** Read at most this much of an answer (the guarded client aborts beyond; it is then a failure). */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Sends one claimed delivery and records the attempt (never throws). */
export async function deliver(deps: DeliveryDeps, c: ClaimedDelivery): Promise<void> {
  try {
    const now = deps.clock.now();
    const secrets = [deps.secretBox.open(c.secretEnc)];
    if (c.previousSecretEnc !== null && c.previousExpiresAt !== null && c.previousExpiresAt > now)
      secrets.push(deps.secretBox.open(c.previousSecretEnc));
    const body = webhookBody(c.event);
    const timestamp = Math.floor(now / 1000);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "psphub-webhooks/1",
      [WEBHOOK_HEADERS.id]: c.eventId,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: await signWebhook({ id: c.eventId, timestamp, body }, secrets),
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
    const recorded = await recordAttempt(
      deps.db,
      c,
      {
        id: newId(),
        requestHeaders: headers,
        responseStatus: res.ok ? res.status : null,
        responseHeaders: res.ok ? res.headers : null,
        responseBody: res.ok ? res.bodyText.slice(0, LOGGED_BODY_CHARS) : null,
        error: res.ok ? null : `${res.reason}: ${res.detail}`,
        latencyMs: res.latencyMs,
        now: at,
      },
      ({ failingSince, attempts }) => {
        if (verdict.kind === "delivered") return { kind: "delivered" };
        const retryAt = nextAttemptAt(
          attempts,
          at,
          random,
          verdict.kind === "failed" ? verdict.notBefore : undefined,
        );
        if (verdict.kind === "gone") return { kind: "disable", reason: "gone", retryAt };
        if (at - (failingSince ?? at) >= DISABLE_AFTER_MS)
          return { kind: "disable", reason: "failing", retryAt };
        return retryAt === null ? { kind: "give_up" } : { kind: "retry", at: retryAt };
      },
    );
    if (recorded.disabled)
      deps.logger.warn({ endpointId: c.endpointId, reason: recorded.decision }, "webhook endpoint disabled");
  } catch (err) {
    // The lease brings the delivery back: it is tried again once the lease has passed.
    deps.logger.error(
      { err, eventId: c.eventId, endpointId: c.endpointId },
      "webhook delivery failed to run",
    );
  }
}

/** Claims up to `limit` due deliveries and sends them at once; resolves when all are recorded. */
export async function runDueDeliveries(deps: DeliveryDeps, limit: number): Promise<number> {
  const claims = await claimDeliveries(deps.db, deps.clock.now(), limit, DELIVERY_LEASE_MS);
  await Promise.all(claims.map((c) => deliver(deps, c)));
  return claims.length;
}

/** The loop of one process: at most `concurrency` deliveries in flight (infra/jobs/job-loop.ts). */
export function startDeliveryWorker(
  deps: DeliveryDeps,
  opts: { pollMs: number; concurrency: number; leaseMs?: number },
): JobLoop {
  const leaseMs = opts.leaseMs ?? DELIVERY_LEASE_MS;
  return startJobLoop({
    pollMs: opts.pollMs,
    concurrency: opts.concurrency,
    claim: (free) => claimDeliveries(deps.db, deps.clock.now(), free, leaseMs),
    run: (c) => deliver(deps, c),
    onClaimError: (err) => deps.logger.error({ err }, "webhook delivery claim failed"),
  });
}
