/**
 * What each back-office role may do, mirrored from the server's matrix
 * (apps/server/src/modules/auth/permissions.ts). The UI only hides and disables with it; the
 * server refuses anyway. If `me` ever carries a `permissions` list, that list wins.
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
  | "deposits:read"
  | "deposits:create"
  | "deposits:resolve"
  | "audit:read"
  | "users:manage";

const ALL: Permission[] = [
  "settings:read",
  "settings:write",
  "settings:reveal",
  "settings:rotate",
  "methods:read",
  "methods:write",
  "clients:read",
  "clients:write",
  "deposits:read",
  "deposits:create",
  "deposits:resolve",
  "audit:read",
  "users:manage",
];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  owner: ALL,
  admin: ALL.filter((p) => p !== "users:manage"),
  finance: [
    "settings:read",
    "methods:read",
    "clients:read",
    "clients:write",
    "deposits:read",
    "deposits:create",
    "deposits:resolve",
    "audit:read",
  ],
  viewer: ["settings:read", "methods:read", "clients:read", "deposits:read"],
};

export const ROLES: Role[] = ["owner", "admin", "finance", "viewer"];

export function permissionsOf(me: { role: Role; permissions?: string[] }): ReadonlySet<string> {
  return new Set(me.permissions ?? ROLE_PERMISSIONS[me.role] ?? []);
}
