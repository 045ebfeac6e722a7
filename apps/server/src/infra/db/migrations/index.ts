import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001-initial.js";
import * as m0002 from "./0002-ledger-append-only.js";

/** Migrations are listed in code (not read from disk) so they work from source and from a build. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { "0001-initial": m0001, "0002-ledger-append-only": m0002 };
  },
};
