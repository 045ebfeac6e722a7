import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkAddress, checkAppUrl } from "./address-policy.js";

/** The IPv6 addresses that carry an IPv4 address, or a tunnel to one: refused whatever it is. */
const EMBEDDED_IPV4 = [
  // IPv4-compatible, ::/96 (RFC 4291 2.5.5.1, deprecated): hex and dotted spellings.
  "::7f00:1",
  "::127.0.0.1",
  "::a9fe:a9fe",
  "::169.254.169.254",
  "::1.2.3.4",
  "::8.8.8.8",
  "::808:808",
  "0:0:0:0:0:0:a00:1",
  "::2",
  // IPv4-translated ::ffff:0:0/96 (RFC 6145)
  "::ffff:0:7f00:1",
  "::ffff:0:808:808",
  // NAT64: the well-known prefix and the local-use one (RFC 6052, RFC 8215)
  "64:ff9b::7f00:1",
  "64:ff9b::808:808",
  "64:ff9b::8.8.8.8",
  "64:ff9b:1::a9fe:a9fe",
  "64:ff9b:1:ffff::808:808",
  // 6to4 (RFC 3056) and Teredo (RFC 4380): tunnels whose far end is an IPv4 address
  "2002:7f00:1::1",
  "2002:808:808::1",
  "2001:0:4136:e378:8000:63bf:3fff:fdd2",
  "2001::1",
];

describe("SSRF address policy", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "::1",
    "::",
    "fc00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "100.64.0.1",
  ])("refuses %s by default", (a) => {
    expect(checkAddress(a, false).allowed).toBe(false);
  });

  it.each(EMBEDDED_IPV4)(
    "refuses %s, an IPv6 address carrying an IPv4 one, even where private addresses are allowed",
    (a) => {
      expect(checkAddress(a, false).allowed).toBe(false);
      expect(checkAddress(a, true).allowed).toBe(false);
    },
  );

  it("refuses every IPv4-compatible address (::/96), in any spelling; :: and ::1 keep their own ranges", () => {
    const spellings = (n: number) => {
      const [a, b, c, d] = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
      const hi = (n >>> 16).toString(16);
      const lo = (n & 0xffff).toString(16);
      return [
        `::${hi}:${lo}`,
        `::${a}.${b}.${c}.${d}`,
        `0:0:0:0:0:0:${hi}:${lo}`,
        `0000::0:${a}.${b}.${c}.${d}`,
      ];
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (n, allowPrivate) => {
        for (const a of spellings(n)) {
          const v = checkAddress(a, allowPrivate);
          if (n === 1)
            expect(v, a).toEqual(allowPrivate ? { allowed: true } : { allowed: false, range: "loopback" });
          else if (n === 0) expect(v, a).toEqual({ allowed: false, range: "unspecified" });
          else expect(v, a).toEqual({ allowed: false, range: "ipv4Compatible" });
        }
      }),
      { numRuns: 500 },
    );
  });

  it("judges an IPv4-mapped address (::ffff:0:0/96) as its IPv4 address, in any spelling", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (n, allowPrivate) => {
        const q = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
        const hex = `::ffff:${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
        const v4 = checkAddress(q, allowPrivate);
        expect(checkAddress(`::ffff:${q}`, allowPrivate), q).toEqual(v4);
        expect(checkAddress(hex, allowPrivate), hex).toEqual(v4);
      }),
      { numRuns: 500 },
    );
  });

  it.each(["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])("allows public %s", (a) => {
    expect(checkAddress(a, false).allowed).toBe(true);
  });

  it("allows loopback and private only when the deployment allows them, never metadata or multicast", () => {
    expect(checkAddress("127.0.0.1", true).allowed).toBe(true);
    expect(checkAddress("10.0.0.1", true).allowed).toBe(true);
    expect(checkAddress("224.0.0.1", true).allowed).toBe(false);
    expect(checkAddress("0.0.0.0", true).allowed).toBe(false);
    // Cloud metadata endpoints hold credentials: refused even where private addresses are allowed.
    for (const a of [
      "169.254.169.254",
      "::ffff:169.254.169.254",
      "169.254.170.2",
      "100.100.100.200",
      "fd00:ec2::254",
    ]) {
      expect(checkAddress(a, true), a).toEqual({ allowed: false, range: "metadata" });
    }
    // …while the rest of link-local stays a private range the deployment may allow.
    expect(checkAddress("169.254.1.1", true).allowed).toBe(true);
    expect(checkAddress("169.254.1.1", false).allowed).toBe(false);
  });

  it.each([
    ["http://2130706433/", "decimal IPv4"],
    ["http://0x7f000001/", "hex IPv4"],
    ["http://0177.0.0.1/", "octal IPv4"],
    ["https://[::1]/", "IPv6 loopback"],
    ["https://[::ffff:7f00:1]/", "IPv4-mapped IPv6"],
    ["https://169.254.169.254/latest", "metadata"],
    ["https://127.1/", "short IPv4"],
    ["https://[::127.0.0.1]/", "IPv4-compatible IPv6, loopback"],
    ["https://[::a9fe:a9fe]/", "IPv4-compatible IPv6, metadata"],
    ["https://[::1.2.3.4]/", "IPv4-compatible IPv6"],
    ["https://[::8.8.8.8]/", "IPv4-compatible IPv6 of a public address"],
    ["https://[64:ff9b::a9fe:a9fe]/", "NAT64 of metadata"],
    ["https://[2002:a9fe:a9fe::1]/", "6to4 of metadata"],
  ])("refuses %s (%s) at save time", async (url) => {
    const r = await checkAppUrl(url, { allowPrivate: false, resolve: async () => [] });
    expect(r.ok).toBe(false);
  });

  it("refuses a DNS name that resolves to a private address", async () => {
    const r = await checkAppUrl("https://psp.example.com", {
      allowPrivate: false,
      resolve: async () => ["93.184.216.34", "10.0.0.5"],
    });
    expect(r).toEqual({ ok: false, reason: expect.stringContaining("10.0.0.5") });
  });

  it("refuses a DNS name that resolves to an IPv4-compatible IPv6 address, even where private addresses are allowed", async () => {
    for (const a of ["::7f00:1", "::127.0.0.1", "::8.8.8.8"]) {
      const r = await checkAppUrl("http://psp.example.com", { allowPrivate: true, resolve: async () => [a] });
      expect(r, a).toEqual({ ok: false, reason: expect.stringContaining("ipv4Compatible") });
    }
  });

  it("refuses non-http schemes, credentials and plain http in production", async () => {
    const resolve = async () => ["93.184.216.34"];
    for (const u of [
      "javascript:alert(1)",
      "ftp://x.example/",
      "file:///etc/passwd",
      "https://u:p@x.example/",
    ]) {
      expect((await checkAppUrl(u, { allowPrivate: false, resolve })).ok).toBe(false);
    }
    expect((await checkAppUrl("http://x.example/", { allowPrivate: false, resolve })).ok).toBe(false);
    expect((await checkAppUrl("https://x.example/psp", { allowPrivate: false, resolve })).ok).toBe(true);
  });
});
