import {
  API1_PARAM_NAMES,
  type Api1ParamConfig,
  nextCustomKey,
  validateApi1ParamConfig,
} from "@psphub/protocol/admin";
import type { FieldIssue } from "../../common/errors.js";
import type { CustomParam } from "./integration-model.js";
import { type CustomParamInput, MAX_SELECT_OPTIONS, type ParamConfigInput } from "./integration-schemas.js";

export type ParamSetup = { paramConfig: Api1ParamConfig; customParams: CustomParam[] };

/**
 * Builds an integration's API-1 parameter setup from input (pure): the standard parameter
 * settings merged over `base`, and the custom parameters with their keys (default: the next
 * free `custom_<n>`) and display order (default: position) filled in. Every rule of the spec's
 * "PSP Settings" (docs/psp-open-api.md#api-1-parameter-configuration) is checked by protocol's
 * validateApi1ParamConfig, over standard AND custom keys.
 *
 * Returns the setup and the issues found, with paths `paramConfig.<name>.key`,
 * `paramConfig.<name>.enabled`, `customParams.<i>.key|options`.
 */
export function buildParamSetup(
  base: Api1ParamConfig,
  patch: ParamConfigInput | undefined,
  customs: readonly CustomParamInput[],
): ParamSetup & { issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const paramConfig = {} as Api1ParamConfig;
  for (const name of API1_PARAM_NAMES) {
    const given = patch?.[name];
    paramConfig[name] = {
      key: given?.key ?? base[name].key,
      enabled: given?.enabled ?? base[name].enabled,
    };
  }

  // Defaults never clash with a key given explicitly (anywhere in the list) or a standard key.
  const taken = new Set<string>(API1_PARAM_NAMES.map((n) => paramConfig[n].key));
  for (const c of customs) if (c.key !== undefined) taken.add(c.key);

  const customParams: CustomParam[] = customs.map((c, i) => {
    let key = c.key;
    if (key === undefined) {
      key = nextCustomKey(taken);
      taken.add(key);
    }
    const param: CustomParam = {
      key,
      label: c.label.trim(),
      type: c.type,
      required: c.required,
      order: c.order ?? i,
    };
    const optionsPath = `customParams.${i}.options`;
    if (c.type === "select") {
      const options = (c.options ?? []).map((o) => o.trim());
      if (options.length === 0)
        issues.push({ path: optionsPath, message: "a select parameter needs at least one option" });
      else if (options.length > MAX_SELECT_OPTIONS)
        issues.push({ path: optionsPath, message: `at most ${MAX_SELECT_OPTIONS} options` });
      else if (options.some((o) => o === ""))
        issues.push({ path: optionsPath, message: "options must not be empty" });
      else if (new Set(options).size !== options.length)
        issues.push({ path: optionsPath, message: "options must be unique" });
      param.options = options;
    } else if (c.options !== undefined) {
      issues.push({ path: optionsPath, message: "only select parameters have options" });
    }
    return param;
  });

  for (const issue of validateApi1ParamConfig(
    paramConfig,
    customParams.map((p) => p.key),
  )) {
    const custom = /^custom\.(\d+)$/.exec(issue.path);
    issues.push({
      path: custom ? `customParams.${custom[1]}.key` : `paramConfig.${issue.path}`,
      message: issue.message,
    });
  }
  return { paramConfig, customParams, issues };
}
