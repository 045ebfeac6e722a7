import { createHash } from "node:crypto";
import type { Integration } from "../psp-integrations/integration-model.js";

/**
 * What a certification is tied to (pure): the hash of everything in an integration's
 * configuration that the suite's verdict depends on (APP_URL, the API-1 keys, the custom
 * parameters, status queries on or off). A change of any of them drops the "certified" badge
 * until the next passing run; a change of name, timeouts or amount policy does not, and neither
 * does a token rotation (the backend is the same code).
 */
export function certifyConfigHash(
  i: Pick<Integration, "appUrl" | "paramConfig" | "customParams"> & { statusQuery: { enabled: boolean } },
): string {
  const custom = [...i.customParams]
    .map((p) => ({ key: p.key, type: p.type, required: p.required, options: p.options ?? null }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const canonical = canonicalJson({
    appUrl: i.appUrl,
    paramConfig: i.paramConfig,
    customParams: custom,
    statusQuery: i.statusQuery.enabled,
  });
  return createHash("sha256").update(canonical).digest("hex");
}

/** JSON with every object's keys sorted, so equal configurations hash equal. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
