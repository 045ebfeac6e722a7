import { describe, expect, it } from "vitest";
import { checkAddress, checkAppUrl } from "./address-policy.js";

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
