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
  };
}

/**
 * The repository with the writes that change what API-2 may have cached. Only
 * {@link CallbackIntegrations.change} hands one out, so no change can miss the cache.
 */
function createIntegrationWriter(db: Db, changed: () => void) {
  return {
    ...createIntegrationRepo(db),

    async update(tenantId: string, id: string, patch: IntegrationPatch): Promise<boolean> {
      changed();
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
      changed();
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
export type IntegrationWriter = ReturnType<typeof createIntegrationWriter>;

/** What API-2 needs of an integration: its scope, state, policy, and the tokens it accepts. */
export type CallbackIntegration = {
  id: string;
  tenant_id: string;
  enabled: boolean;
  amount_policy: IntegrationRow["amount_policy"];
  token: string;
  prevToken: string | null;
  prevTokenExpiresAt: number | null;
  /** While a conformance run lives: its test orders' callbacks go to it (modules/certify). */
  certifyUntil: number | null;
};

/**
 * How long a looked-up integration is reused by API-2 in one process. Every process reads the
 * database again after this, so disabling an integration or rotating its token with no grace
 * takes effect everywhere within this time; in the process that made the change, at once.
 */
export const CALLBACK_INTEGRATION_TTL_MS = 1_000;
/** Most integrations kept; past it the cache starts again empty (merchant ids in use are few). */
export const CALLBACK_INTEGRATIONS_MAX = 10_000;

/**
 * API-2's integration lookups by `merchant_id`, with their tokens decrypted: the hot path looks
 * an integration up (and decrypts its tokens) once per {@link CALLBACK_INTEGRATION_TTL_MS}
 * instead of on every callback (bench B1's profile). Unknown merchant ids are never kept, so
 * garbage cannot fill it. One per AppContext (app-context.ts), over its root database; every
 * change of an integration in this process goes through {@link CallbackIntegrations.change}.
 */
export class CallbackIntegrations {
  private readonly kept = new Map<string, Cached>();
  /** Moves on every change: a lookup read under an older generation is not reused. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  /** Integrations kept now (at most {@link CALLBACK_INTEGRATIONS_MAX}). */
  get size(): number {
    return this.kept.size;
  }

  /** Drops every kept lookup. */
  changed(): void {
    this.generation++;
  }

  /**
   * Runs a transaction that changes integrations, with a repository whose writes drop the kept
   * lookups when the change is written AND again once it has committed: a callback that read
   * the old row between the two (PostgreSQL, read committed) must not keep it for the TTL.
   */
  async change<T>(fn: (repo: IntegrationWriter, trx: Db) => Promise<T>): Promise<T> {
    try {
      return await writeTransaction(this.db, (trx) =>
        fn(
          createIntegrationWriter(trx, () => this.changed()),
          trx,
        ),
      );
    } finally {
      this.changed();
    }
  }

  /** The integration with this `merchant_id`, kept for the TTL. */
  async find(merchantId: string, now: number): Promise<CallbackIntegration | undefined> {
    const hit = this.kept.get(merchantId);
    if (hit && hit.generation === this.generation && hit.expiresAt > now) return hit.value;
    const seenGeneration = this.generation;
    const row = await this.db
      .selectFrom("psp_integrations as i")
      .leftJoin("certify_status as c", "c.integration_id", "i.id")
      .select([
        "i.id",
        "i.tenant_id",
        "i.enabled",
        "i.amount_policy",
        "i.token_enc",
        "i.prev_token_enc",
        "i.prev_token_expires_at",
        "c.live_until",
      ])
      .where("i.merchant_id", "=", merchantId)
      .executeTakeFirst();
    if (!row) {
      this.kept.delete(merchantId);
      return undefined;
    }
    const value: CallbackIntegration = {
      id: row.id,
      tenant_id: row.tenant_id,
      enabled: toBool(row.enabled),
      amount_policy: row.amount_policy,
      token: this.box.open(row.token_enc),
      prevToken: row.prev_token_enc ? openPrevious(this.box, row.prev_token_enc) : null,
      prevTokenExpiresAt: row.prev_token_expires_at,
      certifyUntil: row.live_until,
    };
    // A change made while this read ran may not be in it: don't keep it.
    if (seenGeneration === this.generation) {
      if (this.kept.size >= CALLBACK_INTEGRATIONS_MAX) this.kept.clear();
      this.kept.set(merchantId, {
        value,
        generation: this.generation,
        expiresAt: now + CALLBACK_INTEGRATION_TTL_MS,
      });
    }
    return value;
  }
}
type Cached = { value: CallbackIntegration; generation: number; expiresAt: number };

/**
 * A previous token that no key opens (sealed before a key change that was not reencrypted, or
 * damaged) is no token: the current one must keep working.
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
