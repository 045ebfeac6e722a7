// A key is secret when it ends in one of these words (`token`, `newToken`, `token_enc`,
// `password`), so harmless names such as `tokenRotatedAt` or `password_hint` stay readable.
const SECRET_KEY =
  /(token|token_?enc|password|password_?hash|secret|api_?key|key_?hash|cookie|authorization)$/i;

/** Deep copy with every secret-looking field replaced, for audit before/after values. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? "[redacted]" : redactSecrets(v);
    }
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
