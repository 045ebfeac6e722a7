import type { Role } from "../../infra/db/schema.js";

/** Roles from the most to the least powerful; each one's permissions include the next one's. */
export const ROLE_RANK: readonly Role[] = ["owner", "admin", "finance", "viewer"];

/** The less powerful of two roles. */
export const lesserRole = (a: Role, b: Role): Role => (ROLE_RANK.indexOf(a) >= ROLE_RANK.indexOf(b) ? a : b);

/**
 * What an API key may do right now:
 * - `active`: its own role;
 * - `limited`: its creator's role is now below the key's, so it acts with the creator's;
 * - `suspended`: its creator is disabled or gone, so it authenticates nothing (it comes back when
 *   the creator is enabled again: disabling is reversible, revoking is not);
 * - `revoked`: never again.
 */
export type KeyAccess =
  | { status: "active" | "limited"; effectiveRole: Role }
  | { status: "suspended" | "revoked"; effectiveRole: null };

export function keyAccess(
  key: { role: Role; revokedAt: number | null },
  creator: { role: Role; disabled: boolean } | null,
): KeyAccess {
  if (key.revokedAt !== null) return { status: "revoked", effectiveRole: null };
  if (!creator || creator.disabled) return { status: "suspended", effectiveRole: null };
  const effectiveRole = lesserRole(key.role, creator.role);
  return { status: effectiveRole === key.role ? "active" : "limited", effectiveRole };
}
