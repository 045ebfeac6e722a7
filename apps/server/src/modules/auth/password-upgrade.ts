import { hashPassword, needsRehash } from "../../infra/crypto/hashing.js";
import type { Db } from "../../infra/db/database.js";

/** The account whose password a login has just checked, with the hash it was checked against. */
export type CheckedAccount = { id: string; tenant_id: string; password_hash: string };

/**
 * Re-hashes a password stored with a lower cost than today's (PSPHUB_SCRYPT_N) once a login has
 * checked it: the plain password exists only then. The write is conditional on the hash still
 * being the one checked, so a password changed meanwhile is never overwritten.
 */
export async function upgradePasswordHash(
  db: Db,
  table: "users" | "clients",
  account: CheckedAccount,
  password: string,
): Promise<void> {
  if (!needsRehash(account.password_hash)) return;
  const passwordHash = await hashPassword(password);
  const where = { id: account.id, tenant: account.tenant_id, old: account.password_hash };
  if (table === "users")
    await db
      .updateTable("users")
      .set({ password_hash: passwordHash })
      .where("id", "=", where.id)
      .where("tenant_id", "=", where.tenant)
      .where("password_hash", "=", where.old)
      .execute();
  else
    await db
      .updateTable("clients")
      .set({ password_hash: passwordHash })
      .where("id", "=", where.id)
      .where("tenant_id", "=", where.tenant)
      .where("password_hash", "=", where.old)
      .execute();
}
