import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createAppContext } from "../../../app-context.js";
import { loadConfig } from "../../../config/config.js";
import { databaseUrl, runPsphub, useEnvTestDatabase } from "../../../test/cli-env.js";
import { testDbKind } from "../../../test/test-database.js";
import { migrateToLatest } from "../database.js";
import { migrationProvider } from "./index.js";

// One migration set for SQLite and PostgreSQL, applied at start-up (see
// http/graceful-shutdown.db.test.ts) and by `psphub migrate`; the embedded SQLite file in WAL mode.

const tdb = useEnvTestDatabase({ LOG_LEVEL: "silent" });

/** Runs the CLI in-process and returns its exit code and what it printed (log and error as one). */
async function psphub(argv: string[]) {
  const { code, all } = await runPsphub(argv);
  return { code, out: all };
}

async function tables(): Promise<string[]> {
  const ctx = createAppContext(loadConfig());
  try {
    const rows =
      testDbKind() === "sqlite"
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'
            and name not like 'sqlite_%' order by name`.execute(ctx.db)
        : await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema() order by table_name`.execute(ctx.db);
    return rows.rows.map((r) => r.name);
  } finally {
    await ctx.close();
  }
}

const APP_TABLES = [
  "alerts",
  "api1_breaker_buckets",
  "api1_breaker_events",
  "api1_breakers",
  "api_keys",
  "audit_log",
  "callback_logs",
  "certify_callbacks",
  "certify_orders",
  "certify_runs",
  "certify_status",
  "clients",
  "deposit_events",
  "deposit_methods",
  "deposits",
  "fx_manual_rates",
  "fx_sources",
  "integration_health_minutes",
  "integration_health_state",
  "ledger_entries",
  "login_attempts",
  "operator_sessions",
  "platform_operators",
  "psp_integrations",
  "review_items",
  "sessions",
  "tenants",
  "users",
  "wallets",
  "webhook_attempts",
  "webhook_deliveries",
  "webhook_endpoints",
  "webhook_events",
  "webhook_replays",
  "withdrawal_decisions",
  "withdrawal_events",
  "withdrawal_methods",
  "withdrawals",
];

describe("psphub migrate", () => {
  it("applies every migration of the one set to an empty database, then finds it up to date", async () => {
    expect(await tables()).toEqual([]);
    const names = Object.keys(await migrationProvider.getMigrations());
    const first = await psphub(["migrate"]);
    expect(first.code).toBe(0);
    expect(first.out).toBe(`applied: ${names.join(", ")}`);
    expect(await tables()).toEqual([...APP_TABLES, "kysely_migration", "kysely_migration_lock"].sort());

    const second = await psphub(["migrate"]);
    expect(second).toEqual({ code: 0, out: "database is up to date" });
  });

  it("is what start-up runs too: migrating again applies nothing and keeps the data", async () => {
    const ctx = createAppContext(loadConfig());
    try {
      await ctx.db
        .insertInto("tenants")
        .values({ id: "t1", slug: "kept", name: "Kept", created_at: 1 })
        .execute();
      expect(await migrateToLatest(ctx.db)).toEqual([]);
      expect(await ctx.db.selectFrom("tenants").select("slug").execute()).toEqual([{ slug: "kept" }]);
    } finally {
      await ctx.close();
    }
  });

  it("stops with a message naming the variable when the configuration is bad", async () => {
    process.env.DATABASE_URL = "mysql://db/psphub";
    try {
      const bad = await psphub(["migrate"]);
      expect(bad.code).toBe(2);
      expect(bad.out).toMatch(
        /^Invalid configuration:\n {2}DATABASE_URL: must start with postgres:\/\/ or sqlite:/,
      );
    } finally {
      process.env.DATABASE_URL = databaseUrl(tdb());
    }
  });
});

describe.runIf(process.env.PSPHUB_TEST_DB !== "postgres")("the embedded SQLite database", () => {
  it("is a file under DATA_DIR by default, in WAL mode (a property of the file itself)", async () => {
    const config = loadConfig({ DATA_DIR: tdb().dataDir });
    expect(config.database).toEqual({ kind: "sqlite", file: `${tdb().dataDir}/psphub.sqlite` });
    const ctx = createAppContext(config);
    try {
      await migrateToLatest(ctx.db);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(ctx.db);
      expect(mode.rows[0]?.journal_mode).toBe("wal");
    } finally {
      await ctx.close();
    }
    // A plain connection that asks for nothing still finds the file in WAL mode.
    const raw = new SQLite(`${tdb().dataDir}/psphub.sqlite`, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    } finally {
      raw.close();
    }
  });
});
