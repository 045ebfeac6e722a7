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

export function checkAddress(address: string, allowPrivate: boolean): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: "invalid" };
  let ip = ipaddr.parse(address);
  // ::ffff:127.0.0.1 and friends are the IPv4 address in disguise.
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    ip = (ip as ipaddr.IPv6).toIPv4Address();
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
