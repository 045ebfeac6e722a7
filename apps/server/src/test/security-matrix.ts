import { randomInt, randomUUID } from "node:crypto";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll } from "vitest";
import type { RouteEntry } from "../http/access.js";
import type { Role } from "../infra/db/schema.js";
import { ROLES } from "../modules/auth/permissions.js";
import {
  createTestApp,
  loginClient,
  loginOperator,
  loginStaff,
  OPERATOR_PASSWORD,
  type Session,
  seedOperator,
  seedTenant,
  TEST_PASSWORD,
  type TestApp,
} from "./test-app.js";

/**
 * Support for the security matrices: they walk `app.routeTable`, so every route that any module
 * registers (now or later) is covered without being listed here.
 */

export const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
export const isUnsafe = (r: Pick<RouteEntry, "method">): boolean => UNSAFE_METHODS.has(r.method);
export const label = (r: Pick<RouteEntry, "method" | "url">): string => `${r.method} ${r.url}`;

const PARAM = /:([A-Za-z0-9_]+)|\*/g;

/** The names of a route's path parameters (`*` counts as one named "*"). */
export const paramNames = (url: string): string[] => [...url.matchAll(PARAM)].map((m) => m[1] ?? "*");
export const hasParams = (url: string): boolean => paramNames(url).length > 0;

/** The route's URL with its parameters filled in (URL-encoded). */
export function fillUrl(url: string, values: Record<string, string>): string {
  return url.replace(PARAM, (_m, name: string | undefined) => {
    const v = values[name ?? "*"];
    if (v === undefined) throw new Error(`no value for :${name ?? "*"} in ${url}`);
    return encodeURIComponent(v);
  });
}

/** Every parameter a fresh random UUID: an id that exists nowhere. */
export const randomParams = (url: string): Record<string, string> =>
  Object.fromEntries(paramNames(url).map((n) => [n, randomUUID()]));

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const DIGIT = "0123456789";
const HEX = "0123456789abcdef";

/**
 * A random id of the same shape as `id` (same length, each character drawn from its class), so
 * that "an unknown id" and "another tenant's id" pass the same format checks and differ only in
 * whether they exist.
 */
export function lookalike(id: string): string {
  const hexOnly = /^[0-9a-f-]+$/.test(id);
  return [...id]
    .map((c) => {
      if (hexOnly && /[0-9a-f]/.test(c)) return HEX[randomInt(16)];
      if (/[a-z]/.test(c)) return LOWER[randomInt(26)];
      if (/[A-Z]/.test(c)) return UPPER[randomInt(26)];
      if (/[0-9]/.test(c)) return DIGIT[randomInt(10)];
      return c;
    })
    .join("");
}

/** Something that can call the app: a staff session, an API key, a client session, or nobody. */
export interface Caller {
  name: string;
  inject(opts: InjectOptions & { csrf?: boolean }): Promise<LightMyRequestResponse>;
}

export const anonymous = (t: TestApp): Caller => ({
  name: "no credentials",
  inject: ({ csrf: _c, ...opts }) => t.app.inject(opts),
});

export const sessionCaller = (name: string, s: Session): Caller => ({ name, inject: (o) => s.inject(o) });

export const apiKeyCaller = (t: TestApp, name: string, key: string): Caller => ({
  name,
  inject: ({ csrf: _c, ...opts }) =>
    t.app.inject({
      ...opts,
      headers: { ...(opts.headers as Record<string, string>), authorization: `Bearer ${key}` },
    }),
});

/**
 * One tenant with a logged-in user and an API key per role, and a client with a portal login;
 * and a platform operator with a console login (above tenants: `session("operator")`).
 */
export type MatrixTenant = Awaited<ReturnType<typeof seedMatrixTenant>>;

export async function seedMatrixTenant(t: TestApp, slug?: string) {
  const s = await seedTenant(t, slug);
  const keys = {} as Record<Role, string>;
  const keyIds = {} as Record<Role, string>;
  for (const role of ROLES) {
    const res = await s.owner.post("/api/admin/api-keys", { name: `${role} key`, role });
    if (res.statusCode !== 201) throw new Error(`api key: ${res.statusCode} ${res.body}`);
    keys[role] = res.json().key;
    keyIds[role] = res.json().id;
  }
  const clientEmail = `client@${s.slug}.test`;
  const clientPassword = "client password 1";
  const c = await s.owner.post("/api/admin/clients", {
    name: "Client",
    email: clientEmail,
    password: clientPassword,
  });
  if (c.statusCode !== 201) throw new Error(`client: ${c.statusCode} ${c.body}`);
  const clientId: string = c.json().id;

  // Sessions may be ended by a route under test (logout); the pool logs in again when needed.
  const sessions = new Map<string, Session>(ROLES.map((r) => [r, s[r]]));
  sessions.set("client", await loginClient(t.app, s.slug, clientEmail, clientPassword));
  const operatorEmail = `operator@${s.slug}.test`;
  sessions.set("operator", await seedOperator(t, operatorEmail));
  const relogin = async (who: Who) =>
    who === "client"
      ? loginClient(t.app, s.slug, clientEmail, clientPassword)
      : who === "operator"
        ? loginOperator(t.app, operatorEmail, OPERATOR_PASSWORD)
        : loginStaff(t.app, `${who}@${s.slug}.test`, TEST_PASSWORD);
  const probeOf: Record<"client" | "operator", string> = {
    client: "/api/portal/auth/me",
    operator: "/api/platform/auth/me",
  };

  return {
    ...s,
    keys,
    keyIds,
    clientId,
    clientEmail,
    clientPassword,
    session: (who: Who): Session => sessions.get(who)!,
    /** Call after a request that may have ended the session (a 2xx on an unsafe route). */
    async refresh(who: Who): Promise<void> {
      const probe = await sessions
        .get(who)!
        .get(who === "client" || who === "operator" ? probeOf[who] : "/api/auth/me");
      if (probe.statusCode === 401) sessions.set(who, await relogin(who));
    },
  };
}

type Who = Role | "client" | "operator";

/** The body sent to an unsafe route when only access control matters: it fails validation, changing nothing. */
export const EMPTY_BODY = {};

/** Collects failures instead of stopping at the first, so one run names every offending route. */
export class Failures {
  readonly list: string[] = [];
  add(route: Pick<RouteEntry, "method" | "url">, message: string): void {
    this.list.push(`${label(route)}: ${message}`);
  }
  check(route: Pick<RouteEntry, "method" | "url">, ok: boolean, message: () => string): void {
    if (!ok) this.add(route, message());
  }
}

export const brief = (res: LightMyRequestResponse): string => `${res.statusCode} ${res.body.slice(0, 200)}`;

/**
 * The matrices' shared set-up: before all, a fresh test app with the matrix tenant seeded
 * (`t`, `m`); after all, the app closed. Both are set once the hooks have run.
 */
export function useMatrixApp(): { t: TestApp; m: MatrixTenant } {
  const fixture = {} as { t: TestApp; m: MatrixTenant };
  beforeAll(async () => {
    fixture.t = await createTestApp();
    fixture.m = await seedMatrixTenant(fixture.t);
  });
  afterAll(async () => fixture.t?.close());
  return fixture;
}
