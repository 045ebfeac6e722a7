import { Migrator } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppContext, createAppContext } from "../../../app-context.js";
import { loadConfig } from "../../../config/config.js";
import { useEnvTestDatabase } from "../../../test/cli-env.js";
import { migrationProvider } from "./index.js";

// Migration 0007 on a database that already holds callback log rows: each keeps its data and
// stands for one request; rows written without the column also count 1; down and up again
// keep the rows.

const tdb = useEnvTestDatabase({ LOG_LEVEL: "silent" });
let ctx: AppContext;
let migrator: Migrator;

const BEFORE = "0006-staff-email-per-tenant";
const THIS = "0007-callback-rejections";

const row = (id: string) => ({
  id,
  tenant_id: null,
  integration_id: null,
  deposit_id: null,
  merchant_id: "m-1",
  order_no: "o-1",
  content_type: "application/json",
  raw_body: '{"status":1}',
  verdict: "rejected",
  error_type: "psp_token_invalid",
  http_status: 400,
  remote_addr: "192.0.2.1",
  created_at: 1,
});

beforeAll(async () => {
  void tdb;
  ctx = createAppContext(loadConfig());
  migrator = new Migrator({ db: ctx.db, provider: migrationProvider });
  const to = await migrator.migrateTo(BEFORE);
  if (to.error) throw to.error;
});
afterAll(async () => ctx?.close());

describe("migration 0007 (callback_logs.request_count)", () => {
  it("counts every existing row as one request, and keeps the rows through down and up", async () => {
    // biome-ignore lint/suspicious/noExplicitAny: the table as it was before this migration
    const db = ctx.db as any;
    await db.insertInto("callback_logs").values(row("before")).execute();
    const up = await migrator.migrateTo(THIS);
    expect(up.error).toBeUndefined();
    await db.insertInto("callback_logs").values(row("after")).execute();
    await db
      .insertInto("callback_logs")
      .values({ ...row("summary"), http_status: 429, request_count: 180 })
      .execute();
    const counts = await ctx.db
      .selectFrom("callback_logs")
      .select(["id", "request_count", "raw_body"])
      .orderBy("id")
      .execute();
    expect(counts.map((r) => [r.id, Number(r.request_count), r.raw_body])).toEqual([
      ["after", 1, '{"status":1}'],
      ["before", 1, '{"status":1}'],
      ["summary", 180, '{"status":1}'],
    ]);

    const down = await migrator.migrateTo(BEFORE);
    expect(down.error).toBeUndefined();
    const kept = await db.selectFrom("callback_logs").selectAll().orderBy("id").execute();
    expect(kept.map((r: { id: string }) => r.id)).toEqual(["after", "before", "summary"]);
    expect(Object.keys(kept[0])).not.toContain("request_count");

    const again = await migrator.migrateTo(THIS);
    expect(again.error).toBeUndefined();
  });
});
