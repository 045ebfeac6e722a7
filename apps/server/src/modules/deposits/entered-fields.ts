import type { CustomParam } from "../psp-integrations/integration-model.js";

export type EnteredField = { key: string; label: string; value: string };

/**
 * The deposit fields a client entered, for people to read: each under the label its method
 * shows, else the integration's label, else its key (a parameter removed since), in the
 * integration's order, then any keys it no longer has.
 */
export function enteredFields(
  values: Record<string, string>,
  fieldLabels: Record<string, string>,
  customParams: readonly Pick<CustomParam, "key" | "label" | "order">[],
): EnteredField[] {
  const params = [...customParams].sort((a, b) => a.order - b.order);
  const known = new Set(params.map((p) => p.key));
  // Own keys only: a key named `toString` must not find Object.prototype's.
  const own = (key: string) => (Object.hasOwn(fieldLabels, key) ? fieldLabels[key]?.trim() : undefined);
  const labelOf = (key: string, fallback: string) => own(key) || fallback.trim() || key;
  return [
    ...params
      .filter((p) => Object.hasOwn(values, p.key))
      .map((p) => ({ key: p.key, label: labelOf(p.key, p.label) })),
    ...Object.keys(values)
      .filter((k) => !known.has(k))
      .sort()
      .map((k) => ({ key: k, label: labelOf(k, k) })),
  ].map((f) => ({ ...f, value: values[f.key] ?? "" }));
}
