import type { SecretBox } from "../../infra/crypto/secret-box.js";
import type { Db } from "../../infra/db/database.js";
import type { FxSourceKind } from "../../infra/db/schema.js";
import type { GuardedClient } from "../../infra/http-out/guarded-client.js";

/** A rate wanted from one of a tenant's sources: `from` (payment) → `to` (account currency). */
export type RateRequest = { tenantId: string; sourceId: string; from: string; to: string };

/** Why no rate can be used; `message` is for the client and the admin alike (no secrets). */
export type RateRefusal = "source_not_found" | "no_rate" | "stale" | "unavailable";

export type RateAnswer =
  | {
      ok: true;
      /** Decimal text, at most 12 significant digits (protocol fx.ts). */
      rate: string;
      /** The rate's own time, Unix ms: an external answer's `time`, a manual rate's last change. */
      rateTime: number;
      /** Past this the rate is stale and is not used; null: a manual source without a TTL. */
      validUntil: number | null;
      sourceKind: FxSourceKind;
      sourceId: string;
      sourceName: string;
      /** The pair's own markup (a manual rate's); 0 for an external source. */
      pairMarkupBps: number;
    }
  | { ok: false; reason: RateRefusal; message: string };

/** Where deposits get their rates (modules/fx-rates): manual tables and cached external APIs. */
export interface RateLookup {
  rateFor(request: RateRequest, now: number): Promise<RateAnswer>;
}

export type RateLookupDeps = { db: Db; secretBox: SecretBox; httpOut: GuardedClient };

/** The process's rate lookup, built once per AppContext. */
export function createRateLookup(_deps: RateLookupDeps): RateLookup {
  return {
    rateFor: async () => ({ ok: false, reason: "source_not_found", message: "No such rate source" }),
  };
}
