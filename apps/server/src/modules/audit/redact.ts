const SECRET_KEY = /(token|password|secret|api_?key|key_hash|token_enc|cookie)/i;

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
