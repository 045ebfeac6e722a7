import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppContext } from "../app-context.js";
import { ForbiddenError, UnauthenticatedError } from "../common/errors.js";
import { safeEqual, sha256Hex } from "../infra/crypto/hashing.js";
import type { Role } from "../infra/db/schema.js";
import { can, type Permission } from "../modules/auth/permissions.js";
import { operatorSession } from "../modules/platform/operator-auth.js";
import { tenantSuspendedError } from "../modules/platform/tenant-suspension.js";
import { authenticateApiKey } from "../modules/users/api-keys.js";

export const STAFF_COOKIE = "psphub_session";
export const CLIENT_COOKIE = "psphub_portal";
/** The platform operator's console (modules/platform/): a cookie and a session table of its own. */
export const OPERATOR_COOKIE = "psphub_operator";
export const CSRF_HEADER = "x-csrf-token";

/** Who may call a route. Every route declares one; a route without it fails at start-up. */
export type Access = "public" | "client" | "staff" | "operator" | { staff: Permission };

export type StaffActor = {
  kind: "user" | "api_key";
  id: string;
  tenantId: string;
  role: Role;
};
export type ClientActor = { kind: "client"; id: string; tenantId: string };
export type OperatorRequestActor = { kind: "operator"; id: string };

declare module "fastify" {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    staff: StaffActor | null;
    client: ClientActor | null;
    operator: OperatorRequestActor | null;
  }
  interface FastifyInstance {
    /** Every route with its access rule, for the RBAC and isolation matrix tests. */
    routeTable: RouteEntry[];
  }
}

export type RouteEntry = { method: string; url: string; access: Access };

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The authenticated back-office actor of a route that declared staff access. */
export function staffOf(request: FastifyRequest): StaffActor {
  if (!request.staff) throw new UnauthenticatedError();
  return request.staff;
}

export function clientOf(request: FastifyRequest): ClientActor {
  if (!request.client) throw new UnauthenticatedError();
  return request.client;
}

/**
 * Authentication and authorisation for every route, declared in route config:
 * - staff: a session cookie (writes need the CSRF header matching the session) or an API key
 *   as `Authorization: Bearer psk_…` (no cookie, so no CSRF);
 * - client: the portal session cookie, with the same CSRF rule;
 * - { staff: permission }: staff whose role has that permission, else 403;
 * - operator: the platform operator's session cookie, with the same CSRF rule. No staff,
 *   client or API-key credential opens an operator route, and no operator session opens theirs.
 */
export function registerAccessControl(app: FastifyInstance, ctx: AppContext): void {
  const sessions = ctx.sessionReader;
  app.decorateRequest("staff", null);
  app.decorateRequest("client", null);
  app.decorateRequest("operator", null);
  const routeTable: RouteEntry[] = [];
  app.decorate("routeTable", routeTable);

  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/docs")) return;
    const access = route.config?.access;
    if (access === undefined) throw new Error(`route ${route.method} ${route.url} declares no access rule`);
    for (const method of [route.method].flat()) {
      if (method !== "HEAD") routeTable.push({ method, url: route.url, access });
    }
  });

  app.addHook("preValidation", async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === "public") return;

    if (access === "client") {
      const raw = request.cookies[CLIENT_COOKIE];
      if (!raw) throw new UnauthenticatedError();
      const s = await sessions.findLive(sha256Hex(raw), ctx.clock.now());
      if (s?.kind !== "client") throw new UnauthenticatedError("Your session has expired, log in again");
      if (s.tenant_suspended_at !== null) throw tenantSuspendedError();
      checkCsrf(request, s.csrf_token);
      request.client = { kind: "client", id: s.subject_id, tenantId: s.tenant_id };
      return;
    }

    if (access === "operator") {
      const o = await operatorSession(ctx, request.cookies[OPERATOR_COOKIE]);
      if (!o) throw new UnauthenticatedError("Your session has expired, log in again");
      checkCsrf(request, o.csrfToken);
      request.operator = { kind: "operator", id: o.me.id };
      return;
    }

    request.staff = await resolveStaff(request);
    if (typeof access === "object" && !can(request.staff.role, access.staff)) {
      throw new ForbiddenError(`Your role (${request.staff.role}) may not do this`);
    }
  });

  async function resolveStaff(request: FastifyRequest): Promise<StaffActor> {
    const auth = request.headers.authorization;
    if (auth?.startsWith("Bearer ")) {
      const key = await authenticateApiKey(ctx, auth.slice(7).trim());
      return { kind: "api_key", ...key };
    }
    const raw = request.cookies[STAFF_COOKIE];
    if (!raw) throw new UnauthenticatedError();
    // The session and its user in one round trip: every back-office request makes this lookup.
    const s = await ctx.db
      .selectFrom("sessions as s")
      .leftJoin("users as u", (j) =>
        j.onRef("u.id", "=", "s.subject_id").onRef("u.tenant_id", "=", "s.tenant_id"),
      )
      .select(["s.csrf_token", "u.id", "u.tenant_id", "u.role", "u.disabled"])
      .where("s.id_hash", "=", sha256Hex(raw))
      .where("s.kind", "=", "user")
      .where("s.expires_at", ">", ctx.clock.now())
      .executeTakeFirst();
    if (!s) throw new UnauthenticatedError("Your session has expired, log in again");
    const user =
      s.id && s.tenant_id && s.role && !s.disabled
        ? { id: s.id, tenant_id: s.tenant_id, role: s.role }
        : null;
    if (!user) throw new UnauthenticatedError("Your account is disabled");
    checkCsrf(request, s.csrf_token);
    return { kind: "user", id: user.id, tenantId: user.tenant_id, role: user.role };
  }
}

function checkCsrf(request: FastifyRequest, expected: string): void {
  if (!UNSAFE.has(request.method)) return;
  const got = request.headers[CSRF_HEADER];
  if (typeof got !== "string" || !safeEqual(got, expected)) {
    throw new ForbiddenError("Missing or invalid CSRF token", "csrf_failed");
  }
}
