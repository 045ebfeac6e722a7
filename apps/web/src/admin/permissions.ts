/**
 * Back-office roles and permissions. What a role may do comes from the server with the session
 * (`me.permissions`, from apps/server/src/modules/auth/permissions.ts): the UI only hides and
 * disables with it, and the server refuses anyway.
 */
export type Role = "owner" | "admin" | "finance" | "viewer";
export type Permission =
  | "settings:read"
  | "settings:write"
  | "settings:reveal"
  | "settings:rotate"
  | "methods:read"
  | "methods:write"
  | "clients:read"
  | "clients:write"
  | "clients:access"
  | "deposits:read"
  | "deposits:create"
  | "deposits:resolve"
  | "withdrawals:read"
  | "withdrawals:decide"
  | "withdrawals:pay"
  | "audit:read"
  | "users:manage";

export const ROLES: Role[] = ["owner", "admin", "finance", "viewer"];

export function permissionsOf(me: { permissions: readonly string[] }): ReadonlySet<string> {
  return new Set(me.permissions);
}
