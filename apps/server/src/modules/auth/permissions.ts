import type { Role } from "../../infra/db/schema.js";

/**
 * The permission matrix. Each back-office route names one permission; a role either has it
 * or the route answers 403. This table is the documentation: docs/permissions.md mirrors it
 * and permissions.test.ts checks both agree.
 */
export const PERMISSIONS = {
  "settings:read": "See PSP integrations (never the token)",
  "settings:write": "Create, edit, enable and disable PSP integrations",
  "settings:reveal": "Reveal merchant_id, token and CRM_Callback_URL",
  "settings:rotate": "Rotate an integration's token",
  "methods:read": "See deposit methods",
  "methods:write": "Create, edit, reorder and delete deposit methods",
  "clients:read": "See clients, wallets and ledgers",
  "clients:write": "Create clients and edit their details",
  "clients:access": "Reset a client's portal password, disable and enable a client",
  "deposits:read": "See deposits, their timelines, callback logs and the review queue",
  "deposits:create": "Create a deposit on a client's behalf",
  "deposits:resolve": "Approve or reject deposits by hand and resolve review items",
  "audit:read": "Read the audit log",
  "users:manage": "Create and change back-office users and API keys",
} as const;

export type Permission = keyof typeof PERMISSIONS;

const ALL = Object.keys(PERMISSIONS) as Permission[];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  owner: new Set(ALL),
  admin: new Set(ALL.filter((p) => p !== "users:manage")),
  finance: new Set<Permission>([
    "settings:read",
    "methods:read",
    "clients:read",
    "clients:write",
    "deposits:read",
    "deposits:create",
    "deposits:resolve",
    "audit:read",
  ]),
  viewer: new Set<Permission>(["settings:read", "methods:read", "clients:read", "deposits:read"]),
};

export const ROLES: Role[] = ["owner", "admin", "finance", "viewer"];

export const can = (role: Role, permission: Permission): boolean => ROLE_PERMISSIONS[role].has(permission);
