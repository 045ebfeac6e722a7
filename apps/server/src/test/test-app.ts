import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { buildApp } from "../app.js";
import { type AppContext, createAppContext } from "../app-context.js";
import { type Clock, systemClock } from "../common/clock.js";
import { type Config, loadConfig } from "../config/config.js";
import { migrateToLatest } from "../infra/db/database.js";
import type { Role } from "../infra/db/schema.js";
import { createLogger } from "../infra/observability/logger.js";
import { createOperator } from "../modules/platform/operator-auth.js";
import { createTenant, createUser } from "../modules/tenants/create-tenant.js";
import { createTestDatabase, testDbKind } from "./test-database.js";

export type TestApp = {
  app: FastifyInstance;
  ctx: AppContext;
  /** Every log line the app wrote, as raw JSON text (for "the token is never logged" tests). */
  logs: string[];
  /** Closes the database under the running app (for readiness tests); close() then skips it. */
  closeDatabase(): Promise<void>;
  close(): Promise<void>;
};

/**
 * Builds the real app on a fresh database of the kind this vitest project targets.
 * `configOverrides` patch the loaded config (e.g. allowPrivateAppUrls for loopback stubs).
 */
export async function createTestApp(
  opts: {
    configOverrides?: Partial<Config>;
    clock?: Clock;
    env?: Record<string, string>;
    /** Routes added before the app is ready (e.g. one that throws, for the error handler). */
    extraRoutes?: (app: FastifyInstance) => void;
  } = {},
): Promise<TestApp> {
  const tdb = await createTestDatabase(testDbKind());
  const config: Config = {
    ...loadConfig({
      PUBLIC_BASE_URL: "https://crm.test",
      LOG_LEVEL: "info",
      LOGIN_RATE_LIMIT_PER_MINUTE: "1000",
      LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: "1000",
      LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE: "1000",
      DEPOSIT_RATE_LIMIT_PER_MINUTE: "10000",
      // Many tests send refused callbacks from one address; the flood limits have their own tests.
      CALLBACK_REJECTIONS_PER_MINUTE_PER_ADDRESS: "100000",
      CALLBACK_REJECTIONS_PER_MINUTE_PER_MERCHANT: "100000",
      EXPIRY_SWEEP_SECONDS: "0",
      ...opts.env,
    }),
    database: tdb.database,
    dataDir: tdb.dataDir,
    encryptionKey: randomBytes(32),
    ...opts.configOverrides,
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const ctx = createAppContext(config, {
    clock: opts.clock ?? systemClock,
    logger: createLogger(config.logLevel, sink),
  });
  await migrateToLatest(ctx.db);
  const app = await buildApp(ctx);
  opts.extraRoutes?.(app);
  await app.ready();
  let dbOpen = true;
  const closeDatabase = async () => {
    if (!dbOpen) return;
    dbOpen = false;
    await ctx.close();
  };
  return {
    app,
    ctx,
    logs,
    closeDatabase,
    async close() {
      await app.close();
      await closeDatabase();
      await tdb.drop();
    },
  };
}

/** A logged-in HTTP session against an app: keeps the cookie and sends the CSRF header. */
export class Session {
  constructor(
    readonly app: FastifyInstance,
    readonly cookie: string,
    readonly csrfToken: string,
    readonly me: { id: string; tenant: { id: string; slug: string } } & Record<string, unknown>,
  ) {}

  inject(opts: InjectOptions & { csrf?: boolean }): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {
      ...(opts.headers as Record<string, string>),
      cookie: this.cookie,
    };
    if (opts.csrf !== false) headers["x-csrf-token"] = this.csrfToken;
    const { csrf: _c, ...rest } = opts;
    return this.app.inject({ ...rest, headers });
  }
  get = (url: string) => this.inject({ method: "GET", url });
  post = (url: string, payload?: unknown) => this.inject({ method: "POST", url, payload: payload as object });
  put = (url: string, payload?: unknown) => this.inject({ method: "PUT", url, payload: payload as object });
  patch = (url: string, payload?: unknown) =>
    this.inject({ method: "PATCH", url, payload: payload as object });
  delete = (url: string) => this.inject({ method: "DELETE", url });
}

function cookieFrom(res: LightMyRequestResponse, name: string): string {
  const c = res.cookies.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} cookie in ${res.statusCode} ${res.body}`);
  return `${name}=${c.value}`;
}

export async function loginStaff(app: FastifyInstance, email: string, password: string): Promise<Session> {
  const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return new Session(app, cookieFrom(res, "psphub_session"), body.csrfToken, body.me);
}

export async function loginClient(
  app: FastifyInstance,
  tenant: string,
  email: string,
  password: string,
): Promise<Session> {
  const res = await app.inject({
    method: "POST",
    url: "/api/portal/auth/login",
    payload: { tenant, email, password },
  });
  if (res.statusCode !== 200) throw new Error(`client login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return new Session(app, cookieFrom(res, "psphub_portal"), body.csrfToken, body.me);
}

export const TEST_PASSWORD = "correct horse battery";

/** A tenant with its owner only, nobody logged in: for tests that need a tenant's data, not its users. */
export async function createTestTenant(
  ctx: AppContext,
  slug = `t${randomBytes(4).toString("hex")}`,
): Promise<{ tenantId: string; slug: string }> {
  const { tenantId } = await createTenant(ctx, {
    slug,
    name: `Tenant ${slug}`,
    owner: { email: `owner@${slug}.test`, name: "Owner", password: TEST_PASSWORD },
  });
  return { tenantId, slug };
}

/**
 * A tenant with one user per role, each logged in. `slug` distinguishes tenants in
 * isolation tests.
 */
export async function seedTenant(t: TestApp, slug = `t${randomBytes(4).toString("hex")}`) {
  const { tenantId } = await createTestTenant(t.ctx, slug);
  const sessions = {} as Record<Role, Session>;
  sessions.owner = await loginStaff(t.app, `owner@${slug}.test`, TEST_PASSWORD);
  for (const role of ["admin", "finance", "viewer"] as const) {
    await createUser(t.ctx, tenantId, {
      email: `${role}@${slug}.test`,
      name: role,
      password: TEST_PASSWORD,
      role,
    });
    sessions[role] = await loginStaff(t.app, `${role}@${slug}.test`, TEST_PASSWORD);
  }
  return { tenantId, slug, ...sessions };
}

export const OPERATOR_PASSWORD = "operator password 1";

/**
 * A platform operator (created through the use-case) logged in to the console API. The
 * session's `me` has no tenant: the operator is above tenants.
 */
export async function seedOperator(t: TestApp, email = `op${randomBytes(4).toString("hex")}@platform.test`) {
  await createOperator(t.ctx, { email, name: "Platform Op", password: OPERATOR_PASSWORD });
  return loginOperator(t.app, email, OPERATOR_PASSWORD);
}

export async function loginOperator(app: FastifyInstance, email: string, password: string): Promise<Session> {
  const res = await app.inject({
    method: "POST",
    url: "/api/platform/auth/login",
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`operator login failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return new Session(app, cookieFrom(res, "psphub_operator"), body.csrfToken, {
    ...body.me,
    tenant: { id: "", slug: "" },
  });
}
