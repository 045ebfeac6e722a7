import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type { Db, DbKind } from "../infra/db/database.js";
import type { Database } from "../infra/db/schema.js";

/**
 * A handle of the given dialect that never connects: for tests of the SQL a builder makes
 * (builders choose their text by the handle's dialect).
 */
export function offlineDb(kind: DbKind): Db {
  return new Kysely<Database>({
    dialect:
      kind === "postgres"
        ? new PostgresDialect({ pool: {} as never })
        : new SqliteDialect({ database: {} as never }),
  });
}
