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
  "methods:read": "See deposit and withdrawal methods",
  "methods:write": "Create, edit, reorder and delete deposit and withdrawal methods",
  "clients:read": "See clients, wallets and ledgers",
  "clients:write": "Create clients and edit their details",
  "clients:access": "Reset a client's portal password, disable and enable a client",
  "deposits:read": "See deposits, their timelines, callback logs and the review queue",
  "deposits:create": "Create a deposit on a client's behalf",
  "deposits:resolve": "Approve or reject deposits by hand and resolve review items",
  "withdrawals:read": "See withdrawals, their timelines and the approval queue",
  "withdrawals:decide":
    "Approve or reject a withdrawal's level (the method's approval policy names the roles per level)",
  "withdrawals:pay": "Record a manual payout, start, check and resolve payouts through an integration",
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
    "withdrawals:read",
    "withdrawals:decide",
    "withdrawals:pay",
    "audit:read",
  ]),
  viewer: new Set<Permission>([
    "settings:read",
    "methods:read",
    "clients:read",
    "deposits:read",
    "withdrawals:read",
  ]),
};

export const ROLES: Role[] = ["owner", "admin", "finance", "viewer"];

export const can = (role: Role, permission: Permission): boolean => ROLE_PERMISSIONS[role].has(permission);
