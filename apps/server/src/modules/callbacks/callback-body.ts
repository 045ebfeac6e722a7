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
  /** The parameters as parsed from the raw body, once (the signature is checked on these). */
  params: FlatParams;
  /** JSON only: each number's literal text in the body, which the signature may be over. */
  literals: Readonly<Record<string, string>> | undefined;
  callback: ParsedCallback;
};

export type BodyResult = { ok: true; body: ReadBody } | { ok: false; message: string };

/**
 * Reads an API-2 body (pure). JSON, and form-encoded (ours); the declared content type decides,
 * and a missing or other content type is sniffed: a body starting with `{` is JSON, anything
 * else is read as a form (garbage then fails the mandatory keys). Every failure is
 * `request_malformed`: not JSON, not an object, nested values, duplicate keys, wrong types,
 * missing keys, NUL characters.
 */
/**
 * Whether an API-2 body is read as a form: the declared content type decides; a missing or other
 * one is sniffed (a body starting with `{` is JSON).
 */
export function isFormBody(raw: string, contentType: string | null | undefined): boolean {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return (
    media === "application/x-www-form-urlencoded" ||
    (media !== "application/json" && !media.endsWith("+json") && !raw.trimStart().startsWith("{"))
  );
}

export function readCallbackBody(
  raw: string | undefined,
  contentType: string | undefined,
  /** `payout_no` for an API-5 body (docs/psp-open-api.md#api-5). */
  idKey: "order_no" | "payout_no" = "order_no",
): BodyResult {
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, message: "the body is empty" };
  const form = isFormBody(raw, contentType);
  try {
    const { params, literals } = form
      ? { params: parseFormBody(raw), literals: undefined }
      : parseFlatJson(raw);
    const nul = findNul(params);
    if (nul !== undefined) return { ok: false, message: `the value of ${nul} contains a NUL character` };
    const parsed = parseCallback(params, literals, { form, idKey });
    return parsed.ok
      ? { ok: true, body: { form, signed: form ? params : raw, params, literals, callback: parsed.callback } }
      : { ok: false, message: parsed.error.message };
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, message: err.message };
    throw err;
  }
}

/**
 * A key or string value holding U+0000: no text column of PostgreSQL can store it, so such a
 * body is malformed here rather than a storage error (a 500) later.
 */
function findNul(params: FlatParams): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    if (key.includes("\u0000") || (typeof value === "string" && value.includes("\u0000")))
      return JSON.stringify(key.slice(0, 40));
  }
  return undefined;
}
