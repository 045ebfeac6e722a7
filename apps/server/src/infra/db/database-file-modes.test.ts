import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "./database.js";

// The SQLite database holds password hashes and sealed tokens; its files are
// the owner's only whatever the process's umask (0022 here: files 0644 otherwise).

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const mode = (path: string) => statSync(path).mode & 0o777;

describe("the SQLite files", () => {
  it("are created 0600 (database, -wal, -shm), in a data directory created 0700", async () => {
    const root = mkdtempSync(join(tmpdir(), "psphub-modes-"));
    dirs.push(root);
    const file = join(root, "data", "psphub.sqlite");
    const handle = openDatabase({ database: { kind: "sqlite", file } });
    try {
      await sql`CREATE TABLE t (x INTEGER)`.execute(handle.db);
      await sql`INSERT INTO t VALUES (1)`.execute(handle.db);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        expect(existsSync(f)).toBe(true);
        expect({ f, mode: mode(f).toString(8) }).toEqual({ f, mode: "600" });
      }
      expect(mode(join(root, "data")).toString(8)).toBe("700");
    } finally {
      await handle.close();
    }
  });

  it("an existing database file keeps its mode, and its new -wal and -shm follow it", async () => {
    const root = mkdtempSync(join(tmpdir(), "psphub-modes-"));
    dirs.push(root);
    const file = join(root, "psphub.sqlite");
    const first = openDatabase({ database: { kind: "sqlite", file } });
    await sql`CREATE TABLE t (x INTEGER)`.execute(first.db);
    await first.close();
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    const again = openDatabase({ database: { kind: "sqlite", file } });
    try {
      await sql`INSERT INTO t VALUES (1)`.execute(again.db);
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f).toString(8)).toBe("600");
      // The directory existed before psphub: left as it was.
      expect(mode(root).toString(8)).toBe("700");
    } finally {
      await again.close();
    }
  });
});
