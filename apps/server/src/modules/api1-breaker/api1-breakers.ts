import { createMicroBatcher, type MicroBatcher, type Settled } from "../../infra/batching/micro-batcher.js";
import { type Db, dialectOf } from "../../infra/db/database.js";
import {
  BREAKER_POLICY,
  type BreakerPolicy,
  PROBE_FAILED_REASON,
  retryAfterSeconds,
  step,
} from "./breaker-policy.js";
import {
  addEvent,
  type BreakerRow,
  claimProbe,
  close,
  countCalls,
  modeOf,
  openIfClosed,
  pruneBuckets,
  readBreaker,
  reopen,
  stateOf,
  windowCounts,
} from "./breaker-repo.js";

/** An integration as the breaker needs it; `timeoutMs` is its API-1 timeout (a probe's lease). */
export type BreakerTarget = { integrationId: string; tenantId: string; timeoutMs: number };

export type Admission =
  /** `probe`: this call is the half-open probe; its outcome closes or re-opens the breaker. */
  { kind: "pass"; probe: boolean } | { kind: "refuse"; retryAfterSeconds: number };

/** How long a breaker's row is reused by deposit creation in one process (as API-2's integrations). */
export const BREAKER_TTL_MS = 1_000;
const BREAKERS_MAX = 10_000;

type Count = { integrationId: string; bucketAt: number; failure: boolean };
type Cached = { row: BreakerRow | undefined; generation: number; expiresAt: number };

/**
 * The API-1 breakers as deposit creation sees them, one per AppContext. The state lives in
 * the database (breaker-repo.ts), read at most once per {@link BREAKER_TTL_MS} per integration;
 * a closed breaker costs a call nothing more than the counting of its outcome, which is
 * group-committed (all calls finishing together: one upsert). Only failures read the window,
 * and only transitions write the breaker row, each a conditional update, so that two
 * processes never both open it, both probe, or both close it.
 */
export class Api1Breakers {
  private readonly kept = new Map<string, Cached>();
  private generation = 0;
  private readonly counter: MicroBatcher<Count, void>;
  private prunedAt = 0;

  constructor(
    private readonly db: Db,
    private readonly policy: BreakerPolicy = BREAKER_POLICY,
  ) {
    this.counter = createMicroBatcher((items) => this.count(items), {
      maxBatch: 256,
      concurrency: dialectOf(db) === "sqlite" ? 1 : 2,
    });
  }

  /** Drops every kept row (after a change made in this process). */
  changed(): void {
    this.generation++;
  }

  private async read(integrationId: string, now: number): Promise<BreakerRow | undefined> {
    const hit = this.kept.get(integrationId);
    if (hit && hit.generation === this.generation && hit.expiresAt > now) return hit.row;
    const seen = this.generation;
    const row = await readBreaker(this.db, integrationId);
    if (seen === this.generation) {
      if (this.kept.size >= BREAKERS_MAX) this.kept.clear();
      this.kept.set(integrationId, { row, generation: seen, expiresAt: now + BREAKER_TTL_MS });
    }
    return row;
  }

  /**
   * Whether deposits on this integration are refused now (mode `on`, open, no probe due): the
   * portal shows its methods as temporarily unavailable. Once a probe is due they are offered
   * again, so that a client's deposit can be the probe.
   */
  async refusing(t: BreakerTarget, now: number): Promise<boolean> {
    const row = await this.read(t.integrationId, now);
    if (modeOf(row) !== "on") return false;
    const leaseMs = t.timeoutMs + this.policy.probeLeaseMs;
    return step(stateOf(row), { kind: "call", leaseMs }, now, this.policy).decision === "refuse";
  }

  /**
   * Whether a deposit may call API-1 now. In dry run nothing is refused: what would have been
   * is recorded (`would_refuse`, with `what`) for the admin.
   */
  async admit(t: BreakerTarget, now: number, what: Record<string, unknown>): Promise<Admission> {
    const row = await this.read(t.integrationId, now);
    const mode = modeOf(row);
    if (mode === "off") return { kind: "pass", probe: false };
    const state = stateOf(row);
    const s = step(
      state,
      { kind: "call", leaseMs: t.timeoutMs + this.policy.probeLeaseMs },
      now,
      this.policy,
    );
    if (s.decision === "pass") return { kind: "pass", probe: false };
    const dryRun = mode === "dry_run";
    if (s.decision === "probe" && s.next.state === "half_open") {
      const claimed = await claimProbe(
        this.db,
        t.integrationId,
        now,
        this.policy.coolDownMs,
        s.next.probeUntil,
      );
      this.changed();
      if (claimed) {
        await addEvent(this.db, t, now, "half_open", dryRun, { probeUntil: s.next.probeUntil });
        return { kind: "pass", probe: true };
      }
    }
    if (dryRun) {
      await addEvent(this.db, t, now, "would_refuse", true, what);
      return { kind: "pass", probe: false };
    }
    return { kind: "refuse", retryAfterSeconds: retryAfterSeconds(state, now, this.policy) };
  }

  /**
   * Counts a call's outcome (`null`: no call was made) and makes the transition it causes:
   * a probe's closes or re-opens; a failure that trips the window opens.
   */
  async record(
    t: BreakerTarget,
    verdict: "success" | "failure" | null,
    probe: boolean,
    now: number,
  ): Promise<void> {
    if (verdict === null) return;
    const row = await this.read(t.integrationId, now);
    const mode = modeOf(row);
    if (mode === "off") return;
    const failure = verdict === "failure";
    const bucketAt = now - (now % this.policy.bucketMs);
    await this.counter.submit({ integrationId: t.integrationId, bucketAt, failure });
    const dryRun = mode === "dry_run";
    if (probe) {
      const moved = failure
        ? await reopen(this.db, t.integrationId, now, PROBE_FAILED_REASON)
        : await close(this.db, t.integrationId, now);
      this.changed();
      if (moved) {
        const detail = failure ? { reason: PROBE_FAILED_REASON } : { by: "probe" };
        await addEvent(this.db, t, now, failure ? "opened" : "closed", dryRun, detail);
      }
      return;
    }
    if (!failure || stateOf(row).state !== "closed") return;
    const window = await windowCounts(this.db, t.integrationId, now - this.policy.windowMs);
    const s = step({ state: "closed" }, { kind: "outcome", failure, probe, window }, now, this.policy);
    if (s.transition !== "opened" || s.next.state !== "open") return;
    const opened = await openIfClosed(this.db, t, now, s.next.reason);
    this.changed();
    if (opened) await addEvent(this.db, t, now, "opened", dryRun, { reason: s.next.reason, ...window });
  }

  /** One upsert for every call that finished together; old buckets go now and then. */
  private async count(items: Count[]): Promise<Settled<void>[]> {
    const sums = new Map<
      string,
      { integrationId: string; bucketAt: number; calls: number; failures: number }
    >();
    for (const i of items) {
      const key = `${i.integrationId}\u0000${i.bucketAt}`;
      const s = sums.get(key) ?? {
        integrationId: i.integrationId,
        bucketAt: i.bucketAt,
        calls: 0,
        failures: 0,
      };
      s.calls++;
      if (i.failure) s.failures++;
      sums.set(key, s);
    }
    await countCalls(this.db, [...sums.values()]);
    const latest = Math.max(...items.map((i) => i.bucketAt));
    if (latest - this.prunedAt >= this.policy.windowMs) {
      this.prunedAt = latest;
      await pruneBuckets(this.db, latest - 2 * this.policy.windowMs);
    }
    return items.map(() => ({ ok: true, value: undefined }));
  }
}
