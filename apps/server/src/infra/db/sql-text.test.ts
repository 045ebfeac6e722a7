import { describe, expect, it } from "vitest";
import { offlineDb } from "../../test/offline-db.js";
import { preparedName } from "./pg-prepared.js";
import {
  builtForPostgres,
  forShare,
  insertRows,
  jsonArrayHolds,
  numbered,
  perDatabase,
  rowsAsTable,
  tableColumns,
} from "./sql-text.js";

type Row = { id: string; n: number; note: string | null };
const T = tableColumns<Row>("t", { id: "text", n: "bigint", note: "text" });
const rows: Row[] = [
  { note: "a", n: 1, id: "x" },
  { id: "y", n: 2, note: null },
];

const liteDb = offlineDb("sqlite");
const pgDb = offlineDb("postgres");

describe("sql-text", () => {
  it("numbers placeholders for PostgreSQL, in order", () => {
    expect(numbered("a = ? and b in (?, ?)")).toBe("a = $1 and b in ($2, $3)");
  });

  it("collapses whitespace, and names only the PostgreSQL text", () => {
    const text = `select *\n  from t\n  where id = ?`;
    const s = perDatabase({ sqlite: text, postgres: text });
    expect(s).toEqual({ sqlite: "select * from t where id = ?", postgres: "select * from t where id = $1" });
    expect(preparedName(s.postgres)).toMatch(/^psphub_/);
    const d = perDatabase({ sqlite: "select ? as only_sqlite", postgres: "select ?::int as only_pg" });
    expect(preparedName(d.postgres)).toBeDefined();
    expect(preparedName(numbered(d.sqlite))).toBeUndefined();
  });

  it("inserts rows in the table's column order, whatever order their keys come in", () => {
    const lite = insertRows(liteDb, T, rows, { tail: "RETURNING id" });
    expect(lite.sql).toBe("INSERT INTO t (id, n, note) VALUES (?, ?, ?), (?, ?, ?) RETURNING id");
    expect(lite.parameters).toEqual(["x", 1, "a", "y", 2, null]);

    const pg = insertRows(pgDb, T, rows, { orderBy: ["note", "id"] });
    expect(pg.sql).toBe(
      "INSERT INTO t (id, n, note) SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[]) AS v ORDER BY 3, 1 ",
    );
    expect(pg.parameters).toEqual([
      ["x", "y"],
      [1, 2],
      ["a", null],
    ]);
  });

  it("has one PostgreSQL text whatever the number of rows; SQLite's grows with them", () => {
    const one = rows.slice(0, 1);
    expect(insertRows(pgDb, T, one).sql).toBe(insertRows(pgDb, T, rows).sql);
    expect(insertRows(liteDb, T, one).sql).not.toBe(insertRows(liteDb, T, rows).sql);
  });

  it("names the columns of rows used as a table, in the columns' order", () => {
    const values: Row[] = [
      { n: 1, id: "x", note: null },
      { id: "y", note: "b", n: 2 },
    ];
    expect(rowsAsTable(liteDb, T, values)).toEqual({
      sql: "(SELECT column1 AS id, column2 AS n, column3 AS note FROM (VALUES (?, ?, ?), (?, ?, ?))) AS v",
      parameters: ["x", 1, null, "y", 2, "b"],
    });
    expect(rowsAsTable(pgDb, T, values)).toEqual({
      sql: "unnest(?::text[], ?::bigint[], ?::text[]) AS v (id, n, note)",
      parameters: [
        ["x", "y"],
        [1, 2],
        [null, "b"],
      ],
    });
  });

  it("tests a JSON array for an object with json_each on SQLite and jsonb containment on PostgreSQL", () => {
    const fields = { code: "v.currency", decimals: "v.decimals" };
    expect(jsonArrayHolds(liteDb, "m.currencies", fields)).toBe(
      "EXISTS (SELECT 1 FROM json_each(m.currencies) j WHERE json_extract(j.value, '$.code') = v.currency AND json_extract(j.value, '$.decimals') = v.decimals)",
    );
    expect(jsonArrayHolds(pgDb, "m.currencies", fields)).toBe(
      "m.currencies::jsonb @> jsonb_build_array(jsonb_build_object('code', v.currency, 'decimals', v.decimals))",
    );
    expect(forShare(liteDb)).toBe("");
    expect(forShare(pgDb)).toBe(" FOR SHARE");
  });

  it("numbers a built text for PostgreSQL and names it, once per text", () => {
    const text = `SELECT ? AS a, ? AS b FROM t${Math.random()}`;
    const pg = builtForPostgres(text);
    expect(pg).toMatch(/^SELECT \$1 AS a, \$2 AS b FROM t/);
    expect(builtForPostgres(text)).toBe(pg);
    expect(preparedName(pg)).toMatch(/^psphub_/);
  });
});
