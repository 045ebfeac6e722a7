import type { AppContext } from "../../app-context.js";
import type { SecretBox } from "../../infra/crypto/secret-box.js";

export type ReencryptResult = {
  /** Integrations read. */
  integrations: number;
  /** Integrations whose token (or previous token) was sealed again under the current key. */
  resealed: number;
  /** Integrations with a token that neither key opens: left as they are. */
  unreadable: string[];
};

const PAGE = 200;
/** Tries per row when a token rotation changes it between our read and our write. */
const TRIES = 5;

type Sealed = { id: string; token_enc: string; prev_token_enc: string | null };

/** The row's secrets under the current key: null if nothing to change, "unreadable" if a secret opens with no key. */
function resealed(
  box: SecretBox,
  row: Sealed,
): Pick<Sealed, "token_enc" | "prev_token_enc"> | null | "unreadable" {
  const again = (sealed: string) => (box.sealedWithCurrent(sealed) ? sealed : box.seal(box.open(sealed)));
  try {
    const token_enc = again(row.token_enc);
    const prev_token_enc = row.prev_token_enc === null ? null : again(row.prev_token_enc);
    return token_enc === row.token_enc && prev_token_enc === row.prev_token_enc
      ? null
      : { token_enc, prev_token_enc };
  } catch {
    return "unreadable";
  }
}

/**
 * `psphub keys reencrypt`: seals every stored integration token (current and previous) under
 * the current ENCRYPTION_KEY, opening it with that key or ENCRYPTION_KEY_PREVIOUS. Idempotent:
 * a token already under the current key is not rewritten. Safe beside running servers: each
 * row is written only if its secrets are still the ones read (a token rotated meanwhile is read
 * again), and the tokens themselves do not change, so no cached token goes stale.
 */
export async function reencryptTokens(ctx: Pick<AppContext, "db" | "secretBox">): Promise<ReencryptResult> {
  const result: ReencryptResult = { integrations: 0, resealed: 0, unreadable: [] };
  let after = "";
  for (;;) {
    const page = await ctx.db
      .selectFrom("psp_integrations")
      .select(["id", "token_enc", "prev_token_enc"])
      .where("id", ">", after)
      .orderBy("id")
      .limit(PAGE)
      .execute();
    if (page.length === 0) return result;
    for (let row of page) {
      result.integrations++;
      for (let tries = 0; tries < TRIES; tries++) {
        const next = resealed(ctx.secretBox, row);
        if (next === "unreadable") {
          result.unreadable.push(row.id);
          break;
        }
        if (next === null) break;
        let q = ctx.db
          .updateTable("psp_integrations")
          .set(next)
          .where("id", "=", row.id)
          .where("token_enc", "=", row.token_enc);
        q =
          row.prev_token_enc === null
            ? q.where("prev_token_enc", "is", null)
            : q.where("prev_token_enc", "=", row.prev_token_enc);
        if ((await q.executeTakeFirst()).numUpdatedRows > 0n) {
          result.resealed++;
          break;
        }
        const fresh = await ctx.db
          .selectFrom("psp_integrations")
          .select(["id", "token_enc", "prev_token_enc"])
          .where("id", "=", row.id)
          .executeTakeFirst();
        if (!fresh) break;
        row = fresh;
      }
    }
    after = page[page.length - 1]!.id;
  }
}

/**
 * Why the process's key cannot serve this database, or null: the newest integration token must
 * open (with ENCRYPTION_KEY, or ENCRYPTION_KEY_PREVIOUS during a rotation). Read at start-up, so
 * that a wrong or lost key stops the server instead of answering 500 to every callback.
 */
export async function storedTokenKeyProblem(
  ctx: Pick<AppContext, "db" | "secretBox" | "config">,
): Promise<string | null> {
  const row = await ctx.db
    .selectFrom("psp_integrations")
    .select(["id", "token_enc"])
    .orderBy("updated_at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  try {
    ctx.secretBox.open(row.token_enc);
    return null;
  } catch {
    const source = ctx.config.encryptionKey
      ? ctx.config.previousEncryptionKey
        ? "neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS opens"
        : "ENCRYPTION_KEY does not open"
      : `ENCRYPTION_KEY is not set and the key file ${ctx.config.dataDir}/secret.key does not open`;
    return `${source} the stored integration tokens (integration ${row.id}): start with the key they were sealed with, or after a key change with the new key in ENCRYPTION_KEY and the old one in ENCRYPTION_KEY_PREVIOUS, then run psphub keys reencrypt (README: Keys and backups)`;
  }
}
