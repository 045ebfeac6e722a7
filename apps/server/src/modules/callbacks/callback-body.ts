import {
  type FlatParams,
  type ParsedCallback,
  ProtocolError,
  parseCallback,
  parseFlatJson,
  parseFormBody,
} from "@psphub/protocol";

/** An API-2 body that parsed: what to verify the signature over, and the typed callback. */
export type ReadBody = {
  form: boolean;
  /** Form params, or the raw JSON text (the signature is verified against the raw body). */
  signed: string | FlatParams;
  callback: ParsedCallback;
};

export type BodyResult = { ok: true; body: ReadBody } | { ok: false; message: string };

/**
 * Reads an API-2 body (pure). JSON, and form-encoded (ours); the declared content type decides,
 * and a missing or other content type is sniffed: a body starting with `{` is JSON, anything
 * else is read as a form (garbage then fails the mandatory keys). Every failure is
 * `request_malformed`: not JSON, not an object, nested values, duplicate keys, wrong types,
 * missing keys.
 */
export function readCallbackBody(raw: string | undefined, contentType: string | undefined): BodyResult {
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, message: "the body is empty" };
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const form =
    media === "application/x-www-form-urlencoded" ||
    (media !== "application/json" && !media.endsWith("+json") && !raw.trimStart().startsWith("{"));
  try {
    if (form) {
      const params = parseFormBody(raw);
      const parsed = parseCallback(params, undefined, { form: true });
      return parsed.ok
        ? { ok: true, body: { form, signed: params, callback: parsed.callback } }
        : { ok: false, message: parsed.error.message };
    }
    const { params, literals } = parseFlatJson(raw);
    const parsed = parseCallback(params, literals);
    return parsed.ok
      ? { ok: true, body: { form, signed: raw, callback: parsed.callback } }
      : { ok: false, message: parsed.error.message };
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, message: err.message };
    throw err;
  }
}
