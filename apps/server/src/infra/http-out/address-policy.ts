import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

/**
 * The SSRF address policy: which resolved addresses a tenant-configured URL may reach.
 * Only global unicast is allowed, unless the deployment allows private addresses
 * (development, tests, the demo). Used at save time (text and DNS) and again at call time
 * by the guarded client, whose connect-time lookup defeats DNS rebinding.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

/**
 * Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS over IPv6, ECS task metadata,
 * Alibaba): credentials live there, so they stay refused even where private addresses are
 * allowed (development, tests, the demo never need them).
 */
const METADATA_ADDRESSES = new Set(["169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"]);

/**
 * IPv6 blocks that carry an IPv4 address or tunnel to one. IPv4-compatible ::/96 (RFC 4291,
 * deprecated: "::7f00:1" is 127.0.0.1 to some stacks, a sit tunnel to others), IPv4-translated
 * (RFC 6145), NAT64 (RFC 6052 well-known prefix, RFC 8215 local-use /48, where the IPv4 part's
 * position depends on the operator's prefix length), 6to4 (RFC 3056) and Teredo (RFC 4380):
 * the real destination is an IPv4 address, possibly a private or metadata one, behind a gateway
 * we do not control. A tenant backend has a native address, so these are simply refused, even
 * where private addresses are allowed. ::ffff:0:0/96 (IPv4-mapped) is not here: the socket
 * reaches exactly its IPv4 address, so it is judged as that address. :: and ::1 keep their own
 * ranges (unspecified, loopback).
 */
const EMBEDDED_IPV4_BLOCKS: ReadonlyArray<[string, ipaddr.IPv6, number]> = [
  ["ipv4Compatible", ipaddr.IPv6.parse("::"), 96],
  ["ipv4Translated", ipaddr.IPv6.parse("::ffff:0:0:0"), 96],
  ["nat64", ipaddr.IPv6.parse("64:ff9b::"), 96],
  ["nat64", ipaddr.IPv6.parse("64:ff9b:1::"), 48],
  ["6to4", ipaddr.IPv6.parse("2002::"), 16],
  ["teredo", ipaddr.IPv6.parse("2001::"), 32],
];

/**
 * Parses an address strictly. ipaddr.js reads the deprecated "::a.b.c.d" as the IPv4-mapped
 * "::ffff:a.b.c.d", which would judge an IPv4-compatible address as its (maybe public) IPv4
 * one; the WHATWG URL parser reads IPv6 text exactly and prints it in hex, which ipaddr.js
 * then parses without that shortcut.
 */
function parseAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!address.includes(":")) return ipaddr.IPv4.isValid(address) ? ipaddr.IPv4.parse(address) : undefined;
  let hex: string;
  try {
    hex = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  return ipaddr.IPv6.isValid(hex) ? ipaddr.IPv6.parse(hex) : undefined;
}

export function checkAddress(address: string, allowPrivate: boolean): AddressVerdict {
  let ip = parseAddress(address);
  if (ip === undefined) return { allowed: false, range: "invalid" };
  if (ip.kind() === "ipv6") {
    const v6 = ip as ipaddr.IPv6;
    // ::ffff:127.0.0.1 and friends are the IPv4 address in disguise.
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
    else {
      const range = v6.range();
      if (range !== "unspecified" && range !== "loopback") {
        const block = EMBEDDED_IPV4_BLOCKS.find(([, net, bits]) => v6.match(net, bits));
        if (block) return { allowed: false, range: block[0] };
      }
    }
  }
  if (METADATA_ADDRESSES.has(ip.toNormalizedString()) || METADATA_ADDRESSES.has(ip.toString()))
    return { allowed: false, range: "metadata" };
  const range = ip.range();
  if (range === "unicast") return { allowed: true };
  // Private, loopback, link-local, unique-local: reachable only where the deployment allows it.
  const privateRanges = new Set(["private", "loopback", "linkLocal", "uniqueLocal", "carrierGradeNat"]);
  if (allowPrivate && privateRanges.has(range)) return { allowed: true };
  return { allowed: false, range };
}

/**
 * Parses a host the way the WHATWG URL parser already normalised it: decimal (2130706433),
 * octal and hex IPv4 forms arrive here as dotted quads, IPv6 inside brackets.
 */
export function literalAddress(hostname: string): string | undefined {
  const h = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(h) ? h : undefined;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/**
 * Save-time check of an APP_URL: absolute http(s), no credentials, https unless private
 * addresses are allowed, and every address the host resolves to passes the policy.
 */
export async function checkAppUrl(
  text: string,
  opts: { allowPrivate: boolean; resolve?: (host: string) => Promise<string[]> },
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: "is not an absolute URL" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: "must be an https URL" };
  if (url.protocol === "http:" && !opts.allowPrivate) return { ok: false, reason: "must use https" };
  if (url.username || url.password) return { ok: false, reason: "must not contain credentials" };
  if (url.search || url.hash) return { ok: false, reason: "must not contain a query or fragment" };
  const literal = literalAddress(url.hostname);
  const resolve = opts.resolve ?? defaultResolve;
  let addresses: string[];
  if (literal) addresses = [literal];
  else {
    try {
      addresses = await resolve(url.hostname);
    } catch {
      // An unresolvable name is not a private address; the call-time guard checks again.
      addresses = [];
    }
  }
  for (const a of addresses) {
    const v = checkAddress(a, opts.allowPrivate);
    if (!v.allowed)
      return { ok: false, reason: `resolves to a ${v.range} address (${a}), which is not allowed` };
  }
  return { ok: true, url };
}

/** Save-time DNS is advisory (the call-time guard decides), so it must never hang a request. */
const SAVE_TIME_DNS_TIMEOUT_MS = 2_000;

async function defaultResolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("DNS lookup timed out")), SAVE_TIME_DNS_TIMEOUT_MS);
  });
  try {
    const r = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return r.map((x) => x.address);
  } finally {
    clearTimeout(timer);
  }
}
