import type { ApiBody, ApiData } from "../lib/api.js";

/** Names for the operator API's answers, taken from the generated schema (lib/api-schema.d.ts). */
export type OperatorMe = ApiData<"/api/platform/auth/me", "get">["me"];
export type OperatorLogin = ApiBody<"/api/platform/auth/login", "post">;
export type TenantSummary = ApiData<"/api/platform/tenants", "get">["items"][number];
export type NewTenant = ApiBody<"/api/platform/tenants", "post">;
export type TenantHealth = ApiData<"/api/platform/tenants/{id}/health", "get">;
export type UnroutedCallback = ApiData<"/api/platform/callbacks/unrouted", "get">["items"][number];
export type UnroutedSource = ApiData<"/api/platform/callbacks/unrouted/sources", "get">["sources"][number];
export type OperatorAuditRecord = ApiData<"/api/platform/audit", "get">["items"][number];
