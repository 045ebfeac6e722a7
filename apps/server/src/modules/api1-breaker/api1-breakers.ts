import type { Db } from "../../infra/db/database.js";
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
/**
 * Answers (successes) are written at most this often per process, with the next call after it;
 * a failure or a probe's outcome is written at once, with the answers waiting. One upsert per
 * deposit was +10 % CPU in bench B3; a process that dies loses at most this much of answers,
 * which only makes the failure rate read higher for that long.
 */
export const BREAKER_FLUSH_MS = 1_000;

type Count = { integrationId: string; bucketAt: number; calls: number; failures: number };
type Cached = { row: BreakerRow | undefined; generation: number; expiresAt: number };

/**
 * The API-1 breakers as deposit creation sees them, one per AppContext. The state lives in
 * the database (breaker-repo.ts), read at most once per {@link BREAKER_TTL_MS} per integration;
 * a closed breaker costs a call nothing more than the counting of its outcome in memory,
 * written with one upsert at most once a second ({@link BREAKER_FLUSH_MS}). Only failures read the window,
 * and only transitions write the breaker row, each a conditional update, so that two
 * processes never both open it, both probe, or both close it.
 */
export class Api1Breakers {
  private readonly kept = new Map<string, Cached>();
  private generation = 0;
  /** Counts not written yet, by integration and bucket (at most a second of answers). */
  private pending = new Map<string, Count>();
  private flushedAt = 0;
  private prunedAt = 0;

  constructor(
    private readonly db: Db,
    /** A breaker that cannot write must not fail the deposit whose outcome it was counting. */
    private readonly onError: (err: unknown) => void = () => {},
    private readonly policy: BreakerPolicy = BREAKER_POLICY,
  ) {}

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
    try {
      await this.recordOutcome(t, verdict === "failure", probe, now);
    } catch (err) {
      this.onError(err);
    }
  }

  private async recordOutcome(
    t: BreakerTarget,
    failure: boolean,
    probe: boolean,
    now: number,
  ): Promise<void> {
    const row = await this.read(t.integrationId, now);
    const mode = modeOf(row);
    if (mode === "off") return;
    const bucketAt = now - (now % this.policy.bucketMs);
    const key = `${t.integrationId}\u0000${bucketAt}`;
    const c = this.pending.get(key) ?? { integrationId: t.integrationId, bucketAt, calls: 0, failures: 0 };
    c.calls++;
    if (failure) c.failures++;
    this.pending.set(key, c);
    if (!failure && !probe && now - this.flushedAt < BREAKER_FLUSH_MS) return;
    await this.flush(now);
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

  /** Writes the counts waiting (one upsert); old buckets go now and then. */
  async flush(now: number): Promise<void> {
    this.flushedAt = now;
    if (this.pending.size === 0) return;
    const counts = [...this.pending.values()];
    this.pending = new Map();
    await countCalls(this.db, counts);
    if (now - this.prunedAt >= this.policy.windowMs) {
      this.prunedAt = now;
      await pruneBuckets(this.db, now - 2 * this.policy.windowMs);
    }
  }
}
