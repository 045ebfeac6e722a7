import type { Role } from "../../infra/db/schema.js";

/**
 * Who approves a withdrawal (pure, docs/withdrawals.md#approval): the number of levels by
 * amount band, the roles allowed at each level, and the four-eyes rules, checked before any
 * decision is written. Amounts are minor units of the withdrawal's currency.
 */

export type ApprovalBand = {
  /** The band starts at this amount (inclusive); the first band starts at 0. */
  fromMinor: bigint;
  /** Levels needed for an amount in this band (1 to 10). */
  levels: number;
};

export type ApprovalPolicy = {
  bands: readonly ApprovalBand[];
  /** The roles that may decide at each level (index 0 is level 1); a missing level allows admins and owners. */
  rolesByLevel: ReadonlyArray<readonly Role[]>;
  /** A payout through an integration starts by itself after the last level. */
  autoPayout: boolean;
};

export const MAX_APPROVAL_LEVELS = 10;
/** Payouts through an integration need at least this many levels (Broctagon's rule). */
export const MIN_LEVELS_FOR_INTEGRATION = 2;
const DEFAULT_ROLES: readonly Role[] = ["owner", "admin"];

/** Levels an amount needs: those of the highest band it reaches. */
export function levelsFor(policy: ApprovalPolicy, amountMinor: bigint): number {
  let levels = 1;
  for (const band of policy.bands) if (amountMinor >= band.fromMinor) levels = band.levels;
  return levels;
}

/** Why a policy cannot be saved, or none. */
export function policyProblems(policy: ApprovalPolicy, payout: "manual" | "integration"): string[] {
  const problems: string[] = [];
  if (policy.bands.length === 0) problems.push("at least one amount band is needed");
  if (policy.bands[0] && policy.bands[0].fromMinor !== 0n) problems.push("the first band must start at 0");
  for (let i = 1; i < policy.bands.length; i++)
    if (policy.bands[i]!.fromMinor <= policy.bands[i - 1]!.fromMinor)
      problems.push("bands must start at increasing amounts");
  for (const b of policy.bands) {
    if (!Number.isInteger(b.levels) || b.levels < 1 || b.levels > MAX_APPROVAL_LEVELS)
      problems.push(`levels must be 1 to ${MAX_APPROVAL_LEVELS}`);
    if (payout === "integration" && b.levels < MIN_LEVELS_FOR_INTEGRATION)
      problems.push(`payouts through an integration need at least ${MIN_LEVELS_FOR_INTEGRATION} levels`);
  }
  if (policy.rolesByLevel.length > MAX_APPROVAL_LEVELS)
    problems.push(`at most ${MAX_APPROVAL_LEVELS} levels of roles`);
  for (const roles of policy.rolesByLevel)
    if (roles.length === 0 || roles.includes("viewer"))
      problems.push("each level needs roles, and viewers never decide");
  return [...new Set(problems)];
}

/** The roles allowed to decide at a level (1-based). */
export const rolesAt = (policy: ApprovalPolicy, level: number): readonly Role[] =>
  policy.rolesByLevel[level - 1] ?? DEFAULT_ROLES;

export type Decider = { staffId: string; role: Role };
export type DecisionRefusal = "not_open" | "role_not_allowed" | "already_decided_by_you" | "own_request";

/**
 * Whether this person may decide the next level now. Each level is a different person: nobody
 * who decided an earlier level of this withdrawal, and never the staff account that requested it.
 * A rejection is a decision too (at the next level).
 */
export function mayDecide(
  w: { open: boolean; nextLevel: number; requestedByStaffId: string | null; deciders: readonly string[] },
  policy: ApprovalPolicy,
  who: Decider,
): { ok: true } | { ok: false; why: DecisionRefusal } {
  if (!w.open) return { ok: false, why: "not_open" };
  if (w.requestedByStaffId !== null && w.requestedByStaffId === who.staffId)
    return { ok: false, why: "own_request" };
  if (w.deciders.includes(who.staffId)) return { ok: false, why: "already_decided_by_you" };
  if (!rolesAt(policy, w.nextLevel).includes(who.role)) return { ok: false, why: "role_not_allowed" };
  return { ok: true };
}
