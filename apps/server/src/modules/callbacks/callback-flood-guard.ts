import ipaddr from "ipaddr.js";

/**
 * Rate limits for API-2 requests that fail authentication (docs/psp-open-api.md#api-2-throttling),
 * pure: counts in fixed windows, per source and per merchant. Only requests refused before the token matched
 * are counted, so a tenant backend that knows its token is never throttled.
 */
export type FloodLimits = {
  perAddress: number;
  perMerchant: number;
  windowMs: number;
  /** Most sources (and merchants) counted in one window; beyond it a new one is over at once. */
  maxKeys: number;
};

export type FloodVerdict =
  | { throttled: false; windowStart: number }
  | { throttled: true; by: "address" | "merchant"; windowStart: number; retryAfterSeconds: number };

/**
 * The source a limit counts: an IPv4 address (IPv4-mapped IPv6 too), or an IPv6 address's /64,
 * since one host commonly holds a whole /64 and could otherwise pick a new address per request.
 */
export function sourceKey(remoteAddr: string | null): string {
  if (!remoteAddr || !ipaddr.isValid(remoteAddr)) return `other:${remoteAddr ?? ""}`;
  const addr = ipaddr.process(remoteAddr);
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(":")}::/64`;
}

export class RejectionLimiter {
  private windowStart = Number.NaN;
  private readonly byAddress = new Map<string, number>();
  private readonly byMerchant = new Map<string, number>();

  constructor(private readonly limits: FloodLimits) {}

  /** Counts one refused request at `now`; throttled when its source or merchant is over its limit. */
  hit(source: string, merchant: string | null, now: number): FloodVerdict {
    const { windowMs } = this.limits;
    const windowStart = now - (((now % windowMs) + windowMs) % windowMs);
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart;
      this.byAddress.clear();
      this.byMerchant.clear();
    }
    const fromSource = this.bump(this.byAddress, source);
    const forMerchant = merchant === null ? 0 : this.bump(this.byMerchant, merchant);
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
    if (forMerchant > this.limits.perMerchant) {
      return { throttled: true, by: "merchant", windowStart, retryAfterSeconds };
    }
    if (fromSource > this.limits.perAddress) {
      return { throttled: true, by: "address", windowStart, retryAfterSeconds };
    }
    return { throttled: false, windowStart };
  }

  private bump(counts: Map<string, number>, key: string): number {
    const seen = counts.get(key);
    if (seen === undefined && counts.size >= this.limits.maxKeys) return Number.POSITIVE_INFINITY;
    const n = (seen ?? 0) + 1;
    counts.set(key, n);
    return n;
  }
}
