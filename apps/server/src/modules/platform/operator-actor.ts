import type { FastifyRequest } from "fastify";
import { UnauthenticatedError } from "../../common/errors.js";

/** The platform operator performing a console action, for the audit record. */
export type OperatorActor = { id: string; ip: string | null };

/** The operator of a route that declared operator access (access.ts sets `request.operator`). */
export function operatorActorOf(request: FastifyRequest): OperatorActor {
  if (!request.operator) throw new UnauthenticatedError();
  return { id: request.operator.id, ip: request.ip ?? null };
}
