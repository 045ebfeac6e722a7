import { RateLimitedError } from "../../shared/errors.js";

/**
 * Limits password guessing: at most `maxFailures` failed logins per (address, account) in a
 * window. Only failures count, so people who log in often are never locked out by their own
 * successes; a success clears the counter. Kept in process memory: with several server
 * processes each allows `maxFailures`, which still bounds guessing to a handful a minute.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  static key(ip: string, account: string): string {
    return `${ip}\u0000${account.trim().toLowerCase()}`;
  }

  /** Throws RateLimitedError while the key is over its limit. Call before checking the password. */
  check(key: string): void {
    const f = this.#current(key);
    if (f && f.count >= this.maxFailures) throw new RateLimitedError();
  }

  fail(key: string): void {
    const f = this.#current(key);
    if (f) f.count++;
    else this.#failures.set(key, { count: 1, windowStart: this.now() });
    if (this.#failures.size > 100_000) this.#sweep();
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }

  #current(key: string) {
    const f = this.#failures.get(key);
    if (f && this.now() - f.windowStart >= this.windowMs) {
      this.#failures.delete(key);
      return undefined;
    }
    return f;
  }

  #sweep(): void {
    for (const key of this.#failures.keys()) this.#current(key);
  }
}
