import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type { FastifyReply } from "fastify";
import { z } from "zod";

/**
 * CSV exports of the back office's lists: RFC 4180 text (CRLF records, fields with a comma,
 * quote, CR or LF quoted, quotes doubled), written batch by batch as the rows are read, with
 * spreadsheet formulas defused (docs/security.md#csv-exports).
 */

/** A cell's text: null is empty, numbers and bigints their decimal text. */
export type CsvValue = string | number | bigint | null | undefined;

export type CsvColumn<R> = { header: string; value: (row: R) => CsvValue };

/** A plain decimal number (our amounts, epoch figures, HTTP statuses): never a formula. */
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one) as a formula:
 * such text gets a leading apostrophe, which shows it as text. Plain numbers such as "-5.00"
 * are left alone, since they cannot be formulas and must stay numbers.
 */
export function defuseFormula(text: string): string {
  if (text === "" || PLAIN_NUMBER.test(text)) return text;
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

export function csvCell(v: CsvValue): string {
  if (v === null || v === undefined) return "";
  return defuseFormula(typeof v === "string" ? v : v.toString());
}

/** Rows as CSV text, with the header line first when `header` is set. */
export function csvText<R>(columns: readonly CsvColumn<R>[], rows: readonly R[], header: boolean): string {
  const records = rows.map((r) => columns.map((c) => csvCell(c.value(r))));
  if (header) records.unshift(columns.map((c) => csvCell(c.header)));
  // csv-stringify quotes a field holding the record delimiter ("\r\n"), but not a lone CR or LF.
  return stringify(records, { record_delimiter: "windows", quoted_match: /[\r\n]/ });
}

/**
 * The CSV of every batch: the header first, then each batch's rows once the reader wants more
 * (the stream pulls a batch only as the response drains).
 */
export function csvStream<R>(columns: readonly CsvColumn<R>[], batches: AsyncIterable<R[]>): Readable {
  async function* lines() {
    yield csvText(columns, [], true);
    for await (const batch of batches) yield csvText(columns, batch, false);
  }
  return Readable.from(lines(), { objectMode: false });
}

/** Sends `body` as a CSV download named `<name>-<UTC date and time>.csv`. */
export function sendCsv(reply: FastifyReply, name: string, now: number, body: Readable) {
  const stamp = new Date(now).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  return reply
    .header("content-type", "text/csv; charset=utf-8")
    .header("content-disposition", `attachment; filename="${name}-${stamp}.csv"`)
    .header("cache-control", "no-store")
    .send(body);
}

/** Epoch milliseconds as ISO 8601 UTC (`2026-12-04T16:22:05.000Z`); null stays empty. */
export const isoTime = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

/**
 * The 200 answer of every CSV export in the OpenAPI document: a text/csv body. The body is a
 * stream of the route's declared columns only (`csvStream`), so there is nothing to strip.
 */
export const csvResponse = {
  200: {
    description: "text/csv; charset=utf-8, sent as an attachment",
    content: { "text/csv": { schema: z.string() } },
  },
} as const;
