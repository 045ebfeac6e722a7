import type { FieldIssue } from "../../common/errors.js";
import type { CustomParam } from "../psp-integrations/integration-model.js";
import { MAX_FIELD_LABEL } from "./method-schemas.js";

/**
 * Per-method labels of the integration's custom parameters (pure). Every key must be a custom
 * parameter of the integration; a label is 1..80 characters after trimming. A label never
 * changes a key: only the text the client sees.
 */
export function checkFieldLabels(
  labels: Readonly<Record<string, string>>,
  customParams: readonly CustomParam[],
): { fieldLabels: Record<string, string>; issues: FieldIssue[] } {
  const keys = new Set(customParams.map((p) => p.key));
  const issues: FieldIssue[] = [];
  const fieldLabels: Record<string, string> = {};
  for (const [key, raw] of Object.entries(labels)) {
    const path = `fieldLabels.${key}`;
    if (!keys.has(key)) {
      issues.push({ path, message: `${key} is not a custom parameter of the integration` });
      continue;
    }
    const label = raw.trim();
    if (label.length < 1 || label.length > MAX_FIELD_LABEL) {
      issues.push({ path, message: `a label has 1 to ${MAX_FIELD_LABEL} characters` });
      continue;
    }
    fieldLabels[key] = label;
  }
  return { fieldLabels, issues };
}

/** Labels whose key is still a custom parameter of the integration (after it changed). */
export function keepKnownLabels(
  labels: Readonly<Record<string, string>>,
  customParams: readonly CustomParam[],
): Record<string, string> {
  const keys = new Set(customParams.map((p) => p.key));
  return Object.fromEntries(Object.entries(labels).filter(([k]) => keys.has(k)));
}

/** Visibility `groups` needs at least one client group; groups are kept unique. */
export function checkVisibility(
  visibility: "all" | "groups",
  groups: readonly string[],
): { clientGroups: string[]; issues: FieldIssue[] } {
  const clientGroups = [...new Set(groups.map((g) => g.trim()))];
  const issues: FieldIssue[] =
    visibility === "groups" && clientGroups.length === 0
      ? [{ path: "clientGroups", message: "name at least one client group when visibility is groups" }]
      : [];
  return { clientGroups, issues };
}
