import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Config } from "../config/config.js";

export type TestDbKind = "sqlite" | "postgres";

/** Which database this test run targets (set per vitest project). */
export const testDbKind = (): TestDbKind =>
  process.env.PSPHUB_TEST_DB === "postgres" ? "postgres" : "sqlite";

export const PG_ADMIN_URL = process.env.PSPHUB_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * A fresh, empty database for one test file: a temporary SQLite file, or a new PostgreSQL
 * database that is dropped afterwards. Never shared, so test files run in parallel.
 */
export async function createTestDatabase(kind: TestDbKind = testDbKind()): Promise<{
  database: Config["database"];
  dataDir: string;
  drop(): Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "psphub-test-"));
  if (kind === "sqlite") {
    return {
      database: { kind: "sqlite", file: join(dataDir, "test.sqlite") },
      dataDir,
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `psphub_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    database: { kind: "postgres", url: url.toString(), poolSize: 10 },
    dataDir,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
