import type { FastifyRequest } from "fastify";
import type { AuditActor } from "../modules/audit/audit-repo.js";
import { staffOf } from "./access.js";

/**
 * Who performs a back-office change, as the use-cases need it: the tenant (from the
 * authenticated actor only, never from the request), the audit identity, and the client IP.
 */
export type AdminActor = { tenantId: string; audit: AuditActor; ip: string | null };

/** The AdminActor of a route that declared staff access. */
export function adminActorOf(request: FastifyRequest): AdminActor {
  const staff = staffOf(request);
  return { tenantId: staff.tenantId, audit: { type: staff.kind, id: staff.id }, ip: request.ip ?? null };
}
