/**
 * Backpressure from the webhook outbox on API-2 (docs/webhooks.md#backpressure). A credit costs
 * less CPU than the four deliveries it brings (two events, two endpoints each), so a process
 * taking callbacks as fast as they come lets its outbox fall minutes behind. Instead, while the
 * oldest due delivery has waited longer than `maxLagMs`, an authenticated callback of a tenant
 * whose deliveries are behind waits before it is applied, until the worker has caught up (lag
 * at most half of `maxLagMs`) or for `maxHoldMs` at most. Nothing is refused and no transaction
 * is open while a callback waits; tenants whose deliveries are not behind never wait.
 *
 * The delivery worker of the process observes the lag after each claim. An observation older
 * than `staleMs` counts for nothing (a stopped or stuck worker never holds callbacks).
 */
export type BackpressureOptions = {
  /** The lag that starts holding callbacks; 0 turns backpressure off. */
  maxLagMs: number;
  /** How long one callback is held at most. */
  maxHoldMs: number;
  /** How long an observation counts. */
  staleMs: number;
  now: () => number;
  /** Told how long each held callback waited, ms (metrics). */
  onHeld?: (ms: number) => void;
};

export class DeliveryBackpressure {
  private behind = false;
  private observedAt = Number.NEGATIVE_INFINITY;
  /** The tenants of the deliveries claimed while behind: only their callbacks wait. */
  private readonly tenants = new Set<string>();
  private readonly waiting = new Set<() => void>();

  constructor(private readonly opts: BackpressureOptions) {}

  /** Whether it ever holds a callback (WEBHOOK_MAX_LAG_MS > 0). */
  get enabled(): boolean {
    return this.opts.maxLagMs > 0;
  }

  /**
   * A measure of the outbox: how long the oldest delivery due has waited (null: none is due),
   * and the tenants of the deliveries waiting longest.
   */
  observe(lagMs: number | null, tenants: Iterable<string>): void {
    if (!this.enabled) return;
    this.observedAt = this.opts.now();
    if (lagMs === null || lagMs <= this.opts.maxLagMs / 2) this.release();
    else if (lagMs > this.opts.maxLagMs) this.behind = true;
    this.claimed(tenants);
  }

  /** The tenants of deliveries claimed: while behind, their callbacks wait too. */
  claimed(tenants: Iterable<string>): void {
    if (this.behind) for (const t of tenants) this.tenants.add(t);
  }

  /** Whether a callback of `tenantId` would wait now. */
  holds(tenantId: string): boolean {
    if (!this.behind) return false;
    if (this.opts.now() - this.observedAt > this.opts.staleMs) {
      this.release();
      return false;
    }
    return this.tenants.has(tenantId);
  }

  /** Resolves once a callback of `tenantId` may be applied: at once unless it {@link holds}. */
  async admit(tenantId: string): Promise<void> {
    if (!this.holds(tenantId)) return;
    const since = this.opts.now();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.maxHoldMs);
      this.waiting.add(done);
    });
    this.opts.onHeld?.(this.opts.now() - since);
  }

  /** Callbacks waiting now (metrics, tests). */
  get held(): number {
    return this.waiting.size;
  }

  private release(): void {
    this.behind = false;
    this.tenants.clear();
    for (const done of [...this.waiting]) done();
  }
}
