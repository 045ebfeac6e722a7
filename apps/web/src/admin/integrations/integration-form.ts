import { randomId } from "@mantine/hooks";
import {
  API1_PARAM_NAMES,
  type Api1ParamConfig,
  defaultApi1ParamConfig,
  nextCustomKey,
  validateApi1ParamConfig,
} from "@psphub/protocol/admin";
import { t } from "../../i18n/index.js";
import type { AmountPolicy, CustomParamType, Integration } from "../types.js";
import {
  type DelayRow,
  delayRow,
  STATUS_QUERY_DEFAULTS,
  type StatusQuerySettings,
  scheduleErrors,
  secondsOf,
} from "./status-query-form.js";

/** The form of one PSP integration: the API's input shape, plus a row id per custom parameter. */
export interface CustomParamRow {
  uid: string;
  /** Empty: the server picks the next free `custom_<n>`. */
  key: string;
  label: string;
  type: CustomParamType;
  required: boolean;
  options: string[];
}

export interface IntegrationFormValues {
  name: string;
  appUrl: string;
  enabled: boolean;
  api1TimeoutSeconds: number | string;
  amountPolicy: AmountPolicy;
  paramConfig: Api1ParamConfig;
  customParams: CustomParamRow[];
  /** API-3 status query: off by default; the schedule's delays; the timeout in seconds. */
  statusQueryEnabled: boolean;
  statusQuerySchedule: DelayRow[];
  statusQueryTimeoutSeconds: number | string;
}

export const CUSTOM_PARAM_TYPES: CustomParamType[] = ["text", "number", "email", "phone", "select"];
export const AMOUNT_POLICIES: AmountPolicy[] = ["exact", "credit_paid", "review"];

export function emptyValues(): IntegrationFormValues {
  return {
    name: "",
    appUrl: "",
    enabled: true,
    api1TimeoutSeconds: 10,
    amountPolicy: "exact",
    paramConfig: defaultApi1ParamConfig(),
    customParams: [],
    ...statusQueryValues(STATUS_QUERY_DEFAULTS),
  };
}

function statusQueryValues(sq: StatusQuerySettings) {
  return {
    statusQueryEnabled: sq.enabled,
    statusQuerySchedule: sq.scheduleSeconds.map(delayRow),
    statusQueryTimeoutSeconds: Math.round(sq.timeoutMs / 1000),
  };
}

export function valuesOf(i: Integration): IntegrationFormValues {
  return {
    name: i.name,
    appUrl: i.appUrl,
    enabled: i.enabled,
    api1TimeoutSeconds: Math.round(i.api1TimeoutMs / 1000),
    amountPolicy: i.amountPolicy,
    paramConfig: structuredClone(i.paramConfig),
    customParams: [...i.customParams]
      .sort((a, b) => a.order - b.order)
      .map((p) => ({
        uid: randomId(),
        key: p.key,
        label: p.label,
        type: p.type,
        required: p.required,
        options: p.options ?? [],
      })),
    ...statusQueryValues(i.statusQuery),
  };
}

export function newCustomRow(): CustomParamRow {
  return { uid: randomId(), key: "", label: "", type: "text", required: false, options: [] };
}

/** The custom parameters as the API takes them: order = position, options for select only. */
export function customParamsInput(rows: CustomParamRow[]) {
  return rows.map((r, order) => ({
    ...(r.key.trim() ? { key: r.key.trim() } : {}),
    label: r.label.trim(),
    type: r.type,
    required: r.required,
    ...(r.type === "select" ? { options: r.options.map((o) => o.trim()) } : {}),
    order,
  }));
}

export function paramConfigInput(config: Api1ParamConfig) {
  const out = {} as Api1ParamConfig;
  for (const name of API1_PARAM_NAMES) {
    out[name] = { key: config[name].key.trim(), enabled: config[name].enabled };
  }
  return out;
}

export function toInput(v: IntegrationFormValues) {
  return {
    name: v.name.trim(),
    appUrl: v.appUrl.trim(),
    enabled: v.enabled,
    api1TimeoutMs: Math.round(Number(v.api1TimeoutSeconds) * 1000),
    amountPolicy: v.amountPolicy,
    paramConfig: paramConfigInput(v.paramConfig),
    customParams: customParamsInput(v.customParams),
    statusQuery: {
      enabled: v.statusQueryEnabled,
      scheduleSeconds: v.statusQuerySchedule.map(secondsOf),
      timeoutMs: Math.round(Number(v.statusQueryTimeoutSeconds) * 1000),
    } satisfies StatusQuerySettings,
  };
}

/** The keys the server will give the custom parameters (blank ones get the next custom_<n>). */
export function effectiveCustomKeys(config: Api1ParamConfig, rows: CustomParamRow[]): string[] {
  const taken = new Set<string>(API1_PARAM_NAMES.map((n) => config[n].key.trim()));
  for (const r of rows) if (r.key.trim()) taken.add(r.key.trim());
  return rows.map((r) => {
    if (r.key.trim()) return r.key.trim();
    const key = nextCustomKey(taken);
    taken.add(key);
    return key;
  });
}

/** Inline validation, the same rules the server applies (protocol's validateApi1ParamConfig). */
export function validateIntegration(v: IntegrationFormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!v.name.trim()) errors.name = t("validation.required");
  else if (v.name.trim().length > 120) errors.name = t("validation.maxLength", { max: 120 });

  const url = v.appUrl.trim();
  if (!url) errors.appUrl = t("validation.required");
  else {
    try {
      const u = new URL(url);
      if (u.protocol !== "https:" && u.protocol !== "http:") errors.appUrl = t("validation.httpUrl");
    } catch {
      errors.appUrl = t("validation.httpUrl");
    }
  }
  const secs = Number(v.api1TimeoutSeconds);
  if (!Number.isInteger(secs) || secs < 1 || secs > 60) {
    errors.api1TimeoutSeconds = t("validation.range", { min: 1, max: 60 });
  }

  Object.assign(errors, scheduleErrors(v.statusQuerySchedule, "statusQuerySchedule"));
  const sqSecs = Number(v.statusQueryTimeoutSeconds);
  if (!Number.isInteger(sqSecs) || sqSecs < 1 || sqSecs > 60) {
    errors.statusQueryTimeoutSeconds = t("validation.range", { min: 1, max: 60 });
  }

  const config = paramConfigInput(v.paramConfig);
  const keys = effectiveCustomKeys(config, v.customParams);
  for (const issue of validateApi1ParamConfig(config, keys)) {
    const custom = /^custom\.(\d+)$/.exec(issue.path);
    const path = custom ? `customParams.${custom[1]}.key` : `paramConfig.${issue.path}`;
    if (!(path in errors)) errors[path] = issue.message;
  }
  v.customParams.forEach((p, i) => {
    if (!p.label.trim()) errors[`customParams.${i}.label`] = t("validation.required");
    else if (p.label.trim().length > 80)
      errors[`customParams.${i}.label`] = t("validation.maxLength", { max: 80 });
    if (p.type === "select") {
      const opts = p.options.map((o) => o.trim());
      if (opts.length === 0) errors[`customParams.${i}.options`] = t("integrations.custom.optionsRequired");
      else if (opts.some((o) => !o))
        errors[`customParams.${i}.options`] = t("integrations.custom.optionsEmpty");
      else if (new Set(opts).size !== opts.length)
        errors[`customParams.${i}.options`] = t("integrations.custom.optionsUnique");
    }
  });
  return errors;
}

/** Server issue paths → form paths (the timeout is edited in seconds here). */
export function serverPathToForm(path: string): string {
  if (path === "api1TimeoutMs") return "api1TimeoutSeconds";
  if (path === "statusQuery.timeoutMs") return "statusQueryTimeoutSeconds";
  const step = /^statusQuery\.scheduleSeconds(\.(\d+))?$/.exec(path);
  if (step) return step[2] === undefined ? "statusQuerySchedule" : `statusQuerySchedule.${step[2]}.value`;
  return path;
}
