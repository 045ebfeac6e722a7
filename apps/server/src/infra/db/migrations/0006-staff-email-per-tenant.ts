import type { Kysely } from "kysely";

// Slot reserved for issue 14; filled in by the change that needs it.
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(_db: Kysely<any>): Promise<void> {}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {}
