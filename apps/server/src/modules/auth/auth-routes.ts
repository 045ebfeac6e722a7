import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { UnauthenticatedError } from "../../common/errors.js";
import { CLIENT_COOKIE, clientOf, STAFF_COOKIE, staffOf } from "../../http/access.js";
import { loginClient, loginStaff, logout } from "./login.js";
import { loginLimitsOf, reserveLoginAttempt } from "./login-throttle.js";
import { clientSession, staffSession } from "./session-probe.js";
import { endSessionStreams } from "./session-streams.js";

const staffMe = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["owner", "admin", "finance", "viewer"]),
  /** What this role may do, so the UI hides what the server would refuse anyway. */
  permissions: z.array(z.string()),
  tenant: z.object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    /** The platform operator suspended the company: portal and new deposits stopped (docs/security.md#suspension). */
    suspended: z.boolean(),
  }),
});
const clientMe = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  tenant: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
});
const sessionOut = <T extends z.ZodType>(me: T) =>
  z.object({ me, csrfToken: z.string(), expiresAt: z.number() });
const probeOut = <T extends z.ZodType>(me: T) =>
  z.discriminatedUnion("authenticated", [
    z.object({ authenticated: z.literal(false) }),
    z.object({ authenticated: z.literal(true), me, csrfToken: z.string(), expiresAt: z.number() }),
  ]);

export function authRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const cookieOpts = (expiresAt: number) => ({
    httpOnly: true,
    sameSite: "lax" as const,
    secure: ctx.config.cookieSecure,
    path: "/",
    expires: new Date(expiresAt),
  });
  const limits = loginLimitsOf(ctx.config);
  /**
   * Runs a login under the throttle (login-throttle.ts): the attempt is reserved before the
   * password is checked (429 when full); only wrong credentials keep their reservation.
   */
  async function throttled<T>(ip: string, account: string, login: () => Promise<T>): Promise<T> {
    const attempt = await reserveLoginAttempt(ctx.db, limits, ctx.clock.now(), ip, account);
    const giveBack = () =>
      attempt.release().catch((err) => ctx.logger.warn({ err }, "could not give back a login attempt"));
    try {
      const result = await login();
      await giveBack();
      return result;
    } catch (err) {
      if (!(err instanceof UnauthenticatedError)) await giveBack();
      throw err;
    }
  }

  r.post(
    "/api/auth/login",
    {
      config: { access: "public" },
      schema: {
        tags: ["auth"],
        summary: "Back-office login; sets the session cookie and returns the CSRF token",
        body: z.object({
          email: z.string().min(1).max(254),
          password: z.string().min(1).max(200),
          tenant: z
            .string()
            .max(40)
            .optional()
            .describe(
              "Company code (tenant slug). Without it, the e-mail's oldest active account is the one checked (one password check per login), so a person who is staff at several tenants names the one to open",
            ),
        }),
        response: { 200: sessionOut(staffMe) },
      },
    },
    async (req, reply) => {
      const { session, me } = await throttled(req.ip, `staff:${req.body.email}`, () =>
        loginStaff(ctx, req.body),
      );
      reply.setCookie(STAFF_COOKIE, session.secret, cookieOpts(session.expiresAt));
      return { me, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
  );

  r.get(
    "/api/auth/me",
    {
      config: { access: "staff" },
      schema: {
        tags: ["auth"],
        summary: "The logged-in back-office user",
        response: { 200: sessionOut(staffMe) },
      },
    },
    async (req) => {
      if (staffOf(req).kind !== "user") throw new UnauthenticatedError("API keys have no session");
      const data = await staffSession(ctx, req.cookies[STAFF_COOKIE]);
      if (!data) throw new UnauthenticatedError();
      return data;
    },
  );

  r.get(
    "/api/auth/session",
    {
      config: { access: "public" },
      schema: {
        tags: ["auth"],
        summary: "The back-office session, if any: 200 either way (the app's start-up probe)",
        description:
          "Like `me`, but a missing or ended session answers `{authenticated:false}` instead of 401, so a page that is not logged in yet makes no failed request. API keys have no session.",
        response: { 200: probeOut(staffMe) },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      const data = await staffSession(ctx, req.cookies[STAFF_COOKIE]);
      return data ? { authenticated: true as const, ...data } : { authenticated: false as const };
    },
  );

  const doLogout =
    (cookie: string) => async (req: { cookies: Record<string, string | undefined> }, reply: FastifyReply) => {
      await logout(ctx, req.cookies[cookie]);
      endSessionStreams(ctx, req.cookies[cookie]);
      reply.clearCookie(cookie, { path: "/" });
      return reply.status(204).send();
    };
  r.post(
    "/api/auth/logout",
    {
      config: { access: "staff" },
      schema: {
        tags: ["auth"],
        summary: "End the back-office session",
        response: { 204: z.null().describe("Logged out: no body") },
      },
    },
    doLogout(STAFF_COOKIE),
  );

  r.post(
    "/api/portal/auth/login",
    {
      config: { access: "public" },
      schema: {
        tags: ["portal"],
        summary: "Client portal login (tenant slug, email, password)",
        body: z.object({
          tenant: z.string().min(1).max(40),
          email: z.string().min(1).max(254),
          password: z.string().min(1).max(200),
        }),
        response: { 200: sessionOut(clientMe) },
      },
    },
    async (req, reply) => {
      const { session, me } = await throttled(req.ip, `portal:${req.body.tenant}/${req.body.email}`, () =>
        loginClient(ctx, req.body),
      );
      reply.setCookie(CLIENT_COOKIE, session.secret, cookieOpts(session.expiresAt));
      return { me, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    },
  );

  r.get(
    "/api/portal/auth/me",
    {
      config: { access: "client" },
      schema: { tags: ["portal"], summary: "The logged-in client", response: { 200: sessionOut(clientMe) } },
    },
    async (req) => {
      clientOf(req);
      const data = await clientSession(ctx, req.cookies[CLIENT_COOKIE]);
      if (!data) throw new UnauthenticatedError();
      return data;
    },
  );

  r.get(
    "/api/portal/auth/session",
    {
      config: { access: "public" },
      schema: {
        tags: ["portal"],
        summary: "The portal session, if any: 200 either way (the portal's start-up probe)",
        description:
          "Like `me`, but a missing or ended session answers `{authenticated:false}` instead of 401.",
        response: { 200: probeOut(clientMe) },
      },
    },
    async (req, reply) => {
      reply.header("cache-control", "no-store");
      const data = await clientSession(ctx, req.cookies[CLIENT_COOKIE]);
      return data ? { authenticated: true as const, ...data } : { authenticated: false as const };
    },
  );

  r.post(
    "/api/portal/auth/logout",
    {
      config: { access: "client" },
      schema: {
        tags: ["portal"],
        summary: "End the portal session",
        response: { 204: z.null().describe("Logged out: no body") },
      },
    },
    doLogout(CLIENT_COOKIE),
  );
}
