import { createHash } from "node:crypto";
import pg from "pg";

/**
 * Named (server-side prepared) statements on PostgreSQL for the hot paths' SQL.
 *
 * Kysely's PostgreSQL driver sends every statement unnamed, so the server parses and plans it
 * again on every call. For the statements of deposit creation and of a callback batch that was
 * about half of PostgreSQL's time per statement (its log at bench B3: parse + bind 0.3–0.4 ms
 * against 0.02–0.2 ms of execution). A text registered here is sent as a named statement
 * instead: parsed once per connection, then only bound and executed, and after five runs
 * PostgreSQL may keep a generic plan for it (every registered statement looks rows up by key).
 *
 * Register only texts that are fixed (module constants, or one text per query shape, never one
 * per value or per batch size): every connection keeps each registered statement until it
 * closes. The name is a hash of the text, so one name never stands for two texts.
 */
const names = new Map<string, string>();

/** Marks `text` to be sent as a named statement on PostgreSQL; returns it unchanged. */
export function preparedOnPostgres(text: string): string {
  if (!names.has(text)) {
    names.set(text, `psphub_${createHash("sha256").update(text).digest("base64url").slice(0, 24)}`);
  }
  return text;
}

/** The statement name a text is sent under, or undefined when it is sent unnamed. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}

/**
 * pg's client, sending registered texts as named statements (pg parses a name once per
 * connection and remembers it). Kysely calls `query(text, values)`; every other form is passed
 * through untouched.
 */
export class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() has a dozen overloads; this forwards them all
  override query(...args: any[]): any {
    const [text, values] = args;
    if (typeof text === "string" && args.length <= 2 && (values === undefined || Array.isArray(values))) {
      const name = names.get(text);
      if (name !== undefined) return super.query({ name, text, values });
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above
    return (super.query as (...a: any[]) => any)(...args);
  }
}
