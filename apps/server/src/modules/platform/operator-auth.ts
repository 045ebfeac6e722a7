import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { ConflictError, UnauthenticatedError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import {
  dummyPasswordHash,
  hashPassword,
  needsRehash,
  sha256Hex,
  verifyPassword,
} from "../../infra/crypto/hashing.js";
import { type Db, isUniqueViolation } from "../../infra/db/database.js";
import { emailSchema, passwordSchema } from "../tenants/create-tenant.js";

export type OperatorMe = { id: string; email: string; name: string };
export type OperatorSession = { me: OperatorMe; csrfToken: string; expiresAt: number };

const createOperatorInput = z.object({
  email: emailSchema,
  name: z.string().trim().min(1).max(120),
  password: passwordSchema,
});

/** A platform operator, from the CLI (`psphub operator create`) and the demo seed. */
export async function createOperator(
  ctx: Pick<AppContext, "db" | "clock">,
  input: z.input<typeof createOperatorInput>,
): Promise<OperatorMe> {
  const data = parseInput(createOperatorInput, input);
  const id = newId();
  const passwordHash = await hashPassword(data.password);
  try {
    await ctx.db
      .insertInto("platform_operators")
      .values({
        id,
        email: data.email,
        name: data.name,
        password_hash: passwordHash,
        disabled: 0,
        created_at: ctx.clock.now(),
      })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new ConflictError("An operator with that email exists", "email_taken");
    throw err;
  }
  return { id, email: data.email, name: data.name };
}

const BAD_LOGIN = "Email or password is wrong";

/**
 * Operator login: one password check per attempt (the dummy hash for an unknown e-mail, as the
 * staff login does), a disabled operator refused after the same work, then a session in
 * `operator_sessions` (its secret's hash stored, never the secret).
 */
export async function loginOperator(
  ctx: Pick<AppContext, "db" | "clock" | "config">,
  input: { email: string; password: string },
  deps: { verifyPassword: typeof verifyPassword } = { verifyPassword },
): Promise<{ session: { secret: string; csrfToken: string; expiresAt: number }; me: OperatorMe }> {
  const account = await ctx.db
    .selectFrom("platform_operators")
    .select(["id", "email", "name", "password_hash", "disabled"])
    .where("email", "=", input.email.trim().toLowerCase())
    .executeTakeFirst();
  const ok = await deps.verifyPassword(input.password, account?.password_hash ?? dummyPasswordHash());
  if (!ok || !account || account.disabled) throw new UnauthenticatedError(BAD_LOGIN);
  if (needsRehash(account.password_hash)) {
    const upgraded = await hashPassword(input.password);
    await ctx.db
      .updateTable("platform_operators")
      .set({ password_hash: upgraded })
      .where("id", "=", account.id)
      .where("password_hash", "=", account.password_hash)
      .execute();
  }
  const now = ctx.clock.now();
  const secret = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const expiresAt = now + ctx.config.sessionTtlMs;
  await ctx.db
    .insertInto("operator_sessions")
    .values({
      id_hash: sha256Hex(secret),
      operator_id: account.id,
      csrf_token: csrfToken,
      expires_at: expiresAt,
      created_at: now,
    })
    .execute();
  return {
    session: { secret, csrfToken, expiresAt },
    me: { id: account.id, email: account.email, name: account.name },
  };
}

/**
 * The live session behind an operator cookie with its operator, or null: no such session,
 * expired, or an operator since disabled. Used by access control and the session probe.
 */
export async function operatorSession(
  ctx: Pick<AppContext, "db" | "clock">,
  secret: string | undefined,
): Promise<OperatorSession | null> {
  if (!secret) return null;
  const s = await ctx.db
    .selectFrom("operator_sessions as s")
    .innerJoin("platform_operators as o", "o.id", "s.operator_id")
    .select(["o.id", "o.email", "o.name", "o.disabled", "s.csrf_token", "s.expires_at"])
    .where("s.id_hash", "=", sha256Hex(secret))
    .where("s.expires_at", ">", ctx.clock.now())
    .executeTakeFirst();
  if (!s || s.disabled) return null;
  return { me: { id: s.id, email: s.email, name: s.name }, csrfToken: s.csrf_token, expiresAt: s.expires_at };
}

export async function logoutOperator(db: Db, secret: string | undefined): Promise<void> {
  if (secret) await db.deleteFrom("operator_sessions").where("id_hash", "=", sha256Hex(secret)).execute();
}

/** Background job: expired operator sessions are deleted (already refused; keeps the table small). */
export async function deleteExpiredOperatorSessionsJob(ctx: Pick<AppContext, "db" | "clock">): Promise<void> {
  await ctx.db.deleteFrom("operator_sessions").where("expires_at", "<=", ctx.clock.now()).execute();
}
