/** A tenant's four-eyes limits: per currency, the largest credit one admin may make alone (decimal text). */
export type FourEyesLimits = Readonly<Record<string, string>>;

/** The stored limits (tenants.four_eyes_limits, JSON), or none: then every credit needs a second approver. */
export function fourEyesLimitsOf(stored: string | null): FourEyesLimits {
  if (stored === null) return {};
  const parsed: unknown = JSON.parse(stored);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("tenants.four_eyes_limits is not an object of currency limits");
  }
  return parsed as FourEyesLimits;
}

/**
 * Whether crediting `creditMinor` (in a currency of `decimals`) needs a second admin: it is above
 * the currency's limit, or the currency has none (docs/permissions.md#four-eyes). Compared as
 * integers at the finer of the two scales, so any limit the settings accept compares exactly.
 */
export function needsSecondApprover(
  limits: FourEyesLimits,
  currency: string,
  creditMinor: bigint,
  decimals: number,
): boolean {
  const limit = limits[currency];
  if (limit === undefined) return true;
  const [whole = "0", fraction = ""] = limit.split(".");
  const scale = Math.max(fraction.length, decimals);
  const limitScaled = BigInt(whole + fraction.padEnd(scale, "0"));
  return creditMinor * 10n ** BigInt(scale - decimals) > limitScaled;
}
