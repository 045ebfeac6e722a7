/** One field of an audit record, before and after; `path` is dotted (`currencies.0.min`). */
export type DiffRow = {
  path: string;
  before: unknown;
  after: unknown;
  /** Whether the field exists on each side (a created record has no before). */
  inBefore: boolean;
  inAfter: boolean;
  changed: boolean;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Leaves by dotted path; an empty object or list is a leaf of its own, so that it still shows. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : isPlainObject(value)
      ? Object.entries(value)
      : null;
  if (entries === null || (entries.length === 0 && prefix !== "")) {
    if (prefix !== "") out.set(prefix, value);
    else if (value !== null && value !== undefined) out.set("value", value);
    return;
  }
  for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The fields of an audit record's before and after, side by side: every field of either, in the
 * order they appear (before's first), each marked changed when it differs or exists on one side only.
 */
export function auditDiff(before: unknown, after: unknown): DiffRow[] {
  const b = new Map<string, unknown>();
  const a = new Map<string, unknown>();
  flatten(before, "", b);
  flatten(after, "", a);
  const paths = [...b.keys(), ...[...a.keys()].filter((k) => !b.has(k))];
  return paths.map((path) => {
    const inBefore = b.has(path);
    const inAfter = a.has(path);
    const changed = inBefore !== inAfter || !same(b.get(path), a.get(path));
    return { path, before: b.get(path), after: a.get(path), inBefore, inAfter, changed };
  });
}
