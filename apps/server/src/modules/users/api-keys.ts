import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError, UnauthenticatedError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import { sha256Hex } from "../../infra/crypto/hashing.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import type { Role } from "../../infra/db/schema.js";
import { type AuditActor, recordAudit } from "../audit/audit-repo.js";
import { type KeyAccess, keyAccess } from "./api-key-access.js";
import { roleSchema } from "./manage-users.js";
import { createUserRepo } from "./user-repo.js";

export const API_KEY_PREFIX = "psk_";

/**
 * An API key as lists show it: never the key, only its first characters. `role` is what it was
 * issued with; `status` and `effectiveRole` are what it may do now (see keyAccess).
 */
export type ApiKey = {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdBy: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
} & KeyAccess;

type Creator = { creator_role: Role | null; creator_disabled: number | null };
const creatorOf = (r: Creator) =>
  r.creator_role === null ? null : { role: r.creator_role, disabled: Boolean(r.creator_disabled) };

type ApiKeyRow = Awaited<ReturnType<ReturnType<typeof createUserRepo>["listApiKeys"]>>[number];
const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  role: r.role,
  prefix: r.prefix,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  ...keyAccess({ role: r.role, revokedAt: r.revoked_at }, creatorOf(r)),
});

export const createApiKeyInput = z.object({ name: z.string().trim().min(1).max(80), role: roleSchema });

/**
 * Issues an API key: `psk_` + 32 random bytes, base64url. Only its SHA-256 is stored (what
 * access control looks keys up by) and the first 8 characters after `psk_` as a recognisable
 * prefix. The key itself is in this answer only, never again. Its creator is always a user (a
 * key issued with a key belongs to that key's user), whose current role and disabled flag
 * bound what the key may do.
 */
export async function createApiKey(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  input: z.input<typeof createApiKeyInput>,
  actor: AuditActor,
  ip: string | null = null,
): Promise<{ id: string; name: string; role: Role; prefix: string; key: string }> {
  const data = parseInput(createApiKeyInput, input);
  const secret = randomBytes(32).toString("base64url");
  const key = `${API_KEY_PREFIX}${secret}`;
  const id = newId();
  const prefix = secret.slice(0, 8);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    const repo = createUserRepo(trx);
    const createdBy =
      actor.type === "api_key" && actor.id
        ? ((await repo.findApiKey(tenantId, actor.id))?.created_by ?? null)
        : actor.id;
    await repo.insertApiKey({
      id,
      tenant_id: tenantId,
      name: data.name,
      prefix,
      key_hash: sha256Hex(key),
      role: data.role,
      created_by: createdBy,
      created_at: now,
      last_used_at: null,
      revoked_at: null,
    });
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: "api_key.create",
        targetType: "api_key",
        targetId: id,
        after: { name: data.name, role: data.role, prefix },
        ip,
      },
      now,
    );
  });
  return { id, name: data.name, role: data.role, prefix, key };
}

export async function listApiKeys(ctx: Pick<AppContext, "db">, tenantId: string): Promise<ApiKey[]> {
  return (await createUserRepo(ctx.db).listApiKeys(tenantId)).map(toApiKey);
}

/**
 * The tenant and role a presented key acts with, or 401: unknown, revoked, or suspended because
 * its creator is disabled. The role is the lesser of the key's and its creator's current one.
 */
export async function authenticateApiKey(
  ctx: Pick<AppContext, "db" | "clock">,
  key: string,
): Promise<{ id: string; tenantId: string; role: Role }> {
  const repo = createUserRepo(ctx.db);
  const row = await repo.findLiveApiKeyByHash(sha256Hex(key));
  if (!row) throw new UnauthenticatedError("Invalid API key");
  const access = keyAccess({ role: row.role, revokedAt: null }, creatorOf(row));
  if (access.effectiveRole === null) {
    throw new UnauthenticatedError("This API key is suspended: the user who issued it is disabled");
  }
  const now = ctx.clock.now();
  if (!row.last_used_at || now - row.last_used_at > 60_000) await repo.touchApiKey(row.id, now);
  return { id: row.id, tenantId: row.tenant_id, role: access.effectiveRole };
}

/** Revokes a key at once (access control ignores revoked keys). Revoking twice is a no-op. */
export async function revokeApiKey(
  ctx: Pick<AppContext, "db" | "clock">,
  tenantId: string,
  id: string,
  actor: AuditActor,
  ip: string | null = null,
): Promise<void> {
  await writeTransaction(ctx.db, async (trx) => {
    const repo = createUserRepo(trx);
    const key = await repo.findApiKey(tenantId, id);
    if (!key) throw new NotFoundError("API key");
    const now = ctx.clock.now();
    if (!(await repo.revokeApiKey(tenantId, id, now))) return;
    await recordAudit(
      trx,
      {
        tenantId,
        actor,
        action: "api_key.revoke",
        targetType: "api_key",
        targetId: id,
        before: { name: key.name, role: key.role, prefix: key.prefix, revokedAt: null },
        after: { name: key.name, role: key.role, prefix: key.prefix, revokedAt: now },
        ip,
      },
      now,
    );
  });
}

/**
 * The person behind a back-office actor, for four eyes: an API key acts for the user who issued
 * it, so a person cannot approve their own request, or two levels, with their key.
 */
export async function personOf(db: Db, actor: { kind: "user" | "api_key"; id: string; tenantId: string }) {
  if (actor.kind === "user") return actor.id;
  const key = await db
    .selectFrom("api_keys")
    .select("created_by")
    .where("id", "=", actor.id)
    .where("tenant_id", "=", actor.tenantId)
    .executeTakeFirst();
  return key?.created_by ?? actor.id;
}
