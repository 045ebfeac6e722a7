import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, vi } from "vitest";
import { runCli } from "../cli.js";
import { createTestDatabase } from "./test-database.js";

export type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** The `DATABASE_URL` that names a test database. */
export const databaseUrl = (tdb: TestDatabase): string =>
  tdb.database.kind === "sqlite" ? `sqlite:${tdb.database.file}` : tdb.database.url;

/**
 * For tests of what reads the environment (`loadConfig`, the CLI): before all, a fresh test
 * database and `process.env` pointed at it (`DATABASE_URL`, `DATA_DIR`, a new `ENCRYPTION_KEY`,
 * then `extra`); after all, the environment restored and the database dropped. The getter
 * returned gives the database once the hooks have run.
 */
export function useEnvTestDatabase(extra: Record<string, string> = {}): () => TestDatabase {
  let tdb: TestDatabase | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    tdb = await createTestDatabase();
    process.env.DATABASE_URL = databaseUrl(tdb);
    process.env.DATA_DIR = tdb.dataDir;
    process.env.ENCRYPTION_KEY = randomBytes(32).toString("base64");
    Object.assign(process.env, extra);
  });
  afterAll(async () => {
    process.env = saved;
    await tdb?.drop();
  });
  return () => {
    if (!tdb) throw new Error("the test database is made in beforeAll");
    return tdb;
  };
}

/**
 * Runs the `psphub` CLI in-process and returns its exit code and what it printed: `out`
 * (console.log), `err` (console.error) and `all` (both, in the order printed).
 */
export async function runPsphub(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const capture =
    (into: string[]) =>
    (...a: unknown[]) => {
      const line = a.join(" ");
      into.push(line);
      all.push(line);
    };
  const log = vi.spyOn(console, "log").mockImplementation(capture(out));
  const error = vi.spyOn(console, "error").mockImplementation(capture(err));
  try {
    return { code: await runCli(argv), out: out.join("\n"), err: err.join("\n"), all: all.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
