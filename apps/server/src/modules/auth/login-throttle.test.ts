import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressKey, loginCounters, retryAfterSeconds } from "./login-throttle.js";

const limits = { perPair: 5, perAccount: 20, perIp: 100, windowMs: 60_000 };

describe("login throttle keys", () => {
  it("keeps IPv4 addresses apart, folds IPv4-mapped IPv6 into IPv4, and one IPv6 /64 into one key", () => {
    expect(addressKey("192.0.2.1")).toBe("192.0.2.1");
    expect(addressKey("192.0.2.2")).not.toBe(addressKey("192.0.2.1"));
    expect(addressKey("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(addressKey("2001:db8:1:2::1")).toBe(addressKey("2001:db8:1:2:ffff:eeee:dddd:cccc"));
    expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
  });

  it("gives three distinct counters, the same whatever the e-mail's case, none holding what was typed", () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.ipV4(), (email, ip) => {
        const a = loginCounters(limits, ip, `staff:${email}`);
        expect(new Set(a.map((c) => c.key)).size).toBe(3);
        expect(a.map((c) => c.limit)).toEqual([5, 20, 100]);
        expect(loginCounters(limits, ip, `staff:${email.toUpperCase()}`)).toEqual(a);
        for (const c of a) expect(c.key).toMatch(/^[0-9a-f]{64}$/);
        // The address counter is shared by every account; the account counter by every address.
        expect(loginCounters(limits, ip, "staff:other@x.test")[2]).toEqual(a[2]);
        expect(loginCounters(limits, "198.51.100.7", `staff:${email}`)[1]).toEqual(a[1]);
      }),
    );
  });

  it("asks to retry when the full window ends, at least one second from now", () => {
    expect(retryAfterSeconds(1_000_000, 60_000, 1_000_000)).toBe(60);
    expect(retryAfterSeconds(1_000_000, 60_000, 1_059_500)).toBe(1);
    expect(retryAfterSeconds(1_000_000, 60_000, 1_070_000)).toBe(1);
    expect(retryAfterSeconds(1_000_000, 60_000, 1_030_001)).toBe(30);
  });
});
