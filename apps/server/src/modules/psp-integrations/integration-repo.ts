import type { SecretBox } from "../../infra/crypto/secret-box.js";
import { type Db, hasRowLocks, toBool, writeTransaction } from "../../infra/db/database.js";
import type { PspIntegrationsTable } from "../../infra/db/schema.js";

export type IntegrationRow = PspIntegrationsTable;
export type IntegrationPatch = Partial<
  Omit<IntegrationRow, "id" | "tenant_id" | "merchant_id" | "created_at">
>;

/** PSP integrations of one tenant: every query is scoped by tenant_id. */
export function createIntegrationRepo(db: Db) {
  return {
    async list(tenantId: string): Promise<IntegrationRow[]> {
      return db
        .selectFrom("psp_integrations")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },

    /** `forUpdate` locks the row where the database has row locks (PostgreSQL); SQLite has one writer. */
    async find(
      tenantId: string,
      id: string,
      opts: { forUpdate?: boolean } = {},
    ): Promise<IntegrationRow | undefined> {
      let q = db
        .selectFrom("psp_integrations")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id);
      if (opts.forUpdate && hasRowLocks(db)) q = q.forUpdate();
      return q.executeTakeFirst();
    },

    async names(tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom("psp_integrations")
        .select(["id", "name"])
        .where("tenant_id", "=", tenantId)
        .where("id", "in", [...ids])
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    },

    async insert(row: IntegrationRow): Promise<void> {
      await db.insertInto("psp_integrations").values(row).execute();
    },

    async update(tenantId: string, id: string, patch: IntegrationPatch): Promise<boolean> {
      integrationsChanged();
      const r = await db
        .updateTable("psp_integrations")
        .set(patch)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    /** Replaces the token only if it is still `expectedTokenEnc` (no lost concurrent rotation). */
    async replaceToken(
      tenantId: string,
      id: string,
      expectedTokenEnc: string,
      set: Pick<
        IntegrationRow,
        "token_enc" | "prev_token_enc" | "prev_token_expires_at" | "token_rotated_at" | "updated_at"
      >,
    ): Promise<boolean> {
      integrationsChanged();
      const r = await db
        .updateTable("psp_integrations")
        .set(set)
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .where("token_enc", "=", expectedTokenEnc)
        .executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}
export type IntegrationRepo = ReturnType<typeof createIntegrationRepo>;

/** What API-2 needs of an integration: its scope, state, policy, and the tokens it accepts. */
export type CallbackIntegration = {
  id: string;
  tenant_id: string;
  enabled: boolean;
  amount_policy: IntegrationRow["amount_policy"];
  token: string;
  prevToken: string | null;
  prevTokenExpiresAt: number | null;
};

/**
 * How long a looked-up integration is reused by API-2 in one process. Every process reads the
 * database again after this, so disabling an integration or rotating its token with no grace
 * takes effect everywhere within this time; in the process that made the change, at once.
 */
export const CALLBACK_INTEGRATION_TTL_MS = 1_000;
const CACHE_MAX = 10_000;
type Cached = { value: CallbackIntegration; generation: number; expiresAt: number };
const caches = new WeakMap<Db, Map<string, Cached>>();
let generation = 0;

/** Drops every cached lookup (any integration changed in this process). */
export function integrationsChanged(): void {
  generation++;
}

/**
 * Runs a transaction that changes integrations, dropping cached lookups when the change is
 * written AND again once it has committed: a callback that read the old row between the two
 * (PostgreSQL, read committed) must not keep it cached for the rest of the TTL.
 */
export async function inIntegrationTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await writeTransaction(db, fn);
  } finally {
    integrationsChanged();
  }
}

/**
 * The integration with this `merchant_id`, for API-2: the hot path looks it up (and decrypts its
 * tokens) once per {@link CALLBACK_INTEGRATION_TTL_MS} instead of on every callback (bench B1's
 * profile). Unknown merchant ids are never cached, so garbage cannot fill the cache.
 */
export async function findCallbackIntegration(
  db: Db,
  box: SecretBox,
  merchantId: string,
  now: number,
): Promise<CallbackIntegration | undefined> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const hit = cache.get(merchantId);
  if (hit && hit.generation === generation && hit.expiresAt > now) return hit.value;
  const seenGeneration = generation;
  const row = await db
    .selectFrom("psp_integrations")
    .select([
      "id",
      "tenant_id",
      "enabled",
      "amount_policy",
      "token_enc",
      "prev_token_enc",
      "prev_token_expires_at",
    ])
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
  if (!row) {
    cache.delete(merchantId);
    return undefined;
  }
  const value: CallbackIntegration = {
    id: row.id,
    tenant_id: row.tenant_id,
    enabled: toBool(row.enabled),
    amount_policy: row.amount_policy,
    token: box.open(row.token_enc),
    prevToken: row.prev_token_enc ? openPrevious(box, row.prev_token_enc) : null,
    prevTokenExpiresAt: row.prev_token_expires_at,
  };
  // A change made while this read ran may not be in it: don't keep it.
  if (seenGeneration === generation) {
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(merchantId, { value, generation, expiresAt: now + CALLBACK_INTEGRATION_TTL_MS });
  }
  return value;
}

/**
 * A previous token that no key opens (sealed before a key change that was not reencrypted, or
 * damaged) is no token: the current one must keep working (issue 14 item 10).
 */
function openPrevious(box: SecretBox, sealed: string): string | null {
  try {
    return box.open(sealed);
  } catch {
    return null;
  }
}

/** The tokens API-2 accepts now: the current one, and the previous one during its grace. */
export function callbackTokens(i: CallbackIntegration, now: number): string[] {
  return i.prevToken !== null && i.prevTokenExpiresAt !== null && i.prevTokenExpiresAt > now
    ? [i.token, i.prevToken]
    : [i.token];
}
