import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CsvColumn, csvCell, csvStream, csvText, defuseFormula, isoTime } from "./csv-export.js";

type Row = { a: string; b: string };
const COLUMNS: CsvColumn<Row>[] = [
  { header: "a", value: (r) => r.a },
  { header: "b", value: (r) => r.b },
];

const parseCsv = (text: string): string[][] => parse(text, { relax_column_count: false });

/** What a spreadsheet reader sees of a defused cell: the text, without the guard's apostrophe. */
const undefused = (cell: string, original: string) =>
  cell === original ? cell : cell.startsWith("'") ? cell.slice(1) : cell;

describe("formula injection guard", () => {
  it("prefixes text a spreadsheet would run as a formula with an apostrophe", () => {
    for (const s of ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("x")', "-", "+"])
      expect(defuseFormula(s)).toBe(`'${s}`);
  });

  it("leaves other text and plain numbers, negative ones included, as they are", () => {
    for (const s of [
      "",
      "abc",
      "1=1",
      " =1",
      "'=1",
      "-5.00",
      "-12",
      "100.50",
      "0",
      "2026-12-04T16:22:05.000Z",
    ])
      expect(defuseFormula(s)).toBe(s);
  });

  it("writes null as an empty cell and numbers as their decimal text", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell(204)).toBe("204");
    expect(csvCell(9_007_199_254_740_993n)).toBe("9007199254740993");
  });
});

describe("CSV text", () => {
  it("quotes per RFC 4180: CRLF records, quotes doubled, commas, CR and LF inside quotes", () => {
    const text = csvText(
      COLUMNS,
      [
        { a: 'say "hi", ok', b: "line1\nline2" },
        { a: "cr\ronly", b: "plain" },
      ],
      true,
    );
    expect(text).toBe('a,b\r\n"say ""hi"", ok","line1\nline2"\r\n"cr\ronly",plain\r\n');
  });

  it("any cell text comes back through a CSV parser as written (less the guard's apostrophe)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" })), {
          minLength: 1,
          maxLength: 5,
        }),
        (pairs) => {
          const rows = pairs.map(([a, b]) => ({ a, b }));
          const parsed = parseCsv(csvText(COLUMNS, rows, true));
          expect(parsed[0]).toEqual(["a", "b"]);
          expect(parsed.length).toBe(rows.length + 1);
          rows.forEach((r, i) => {
            const [a, b] = parsed[i + 1] as [string, string];
            expect(a).toBe(defuseFormula(r.a));
            expect(b).toBe(defuseFormula(r.b));
            expect(undefused(a, r.a)).toBe(r.a);
            expect(undefused(b, r.b)).toBe(r.b);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("no parsed cell starts with a formula character unless it is a plain number", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        const [, [cell]] = parseCsv(csvText([{ header: "x", value: (r: string) => r }], [s], true)) as [
          string[],
          [string],
        ];
        expect(/^[=+\-@\t\r]/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe("CSV stream", () => {
  it("writes the header, then each batch as the reader pulls it", async () => {
    const pulled: number[] = [];
    async function* batches() {
      for (let i = 0; i < 3; i++) {
        pulled.push(i);
        yield [{ a: String(i), b: `=${i}` }];
      }
    }
    const chunks: string[] = [];
    for await (const chunk of csvStream(COLUMNS, batches())) chunks.push(String(chunk));
    expect(chunks.join("")).toBe("a,b\r\n0,'=0\r\n1,'=1\r\n2,'=2\r\n");
    expect(pulled).toEqual([0, 1, 2]);
  });

  it("writes only the header for an empty list", async () => {
    async function* none(): AsyncGenerator<Row[]> {}
    const chunks: string[] = [];
    for await (const chunk of csvStream(COLUMNS, none())) chunks.push(String(chunk));
    expect(chunks.join("")).toBe("a,b\r\n");
  });
});

describe("times", () => {
  it("are ISO 8601 UTC", () => {
    expect(isoTime(Date.UTC(2026, 11, 4, 16, 22, 5))).toBe("2026-12-04T16:22:05.000Z");
    expect(isoTime(null)).toBeNull();
  });
});
