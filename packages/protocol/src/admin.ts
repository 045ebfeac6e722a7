// @psphub/protocol/admin: helpers for configuring an integration's API-1 parameters (which
// standard parameters are sent, under which keys, custom ones) and for showing tenant text.
// The wire protocol itself (signatures, fields, errors, money) is the main entry.

export {
  API1_PARAM_NAMES,
  API1_PARAMS,
  type Api1ParamConfig,
  type Api1ParamName,
  type Api1ParamSetting,
  type Api1ParamSpec,
  type Api1Values,
  type ConfigIssue,
  cleanTenantText,
  type DecodedApi1Body,
  defaultApi1ParamConfig,
  fromConfiguredKeys,
  isApi1ParamName,
  nextCustomKey,
  PARAM_KEY_PATTERN,
  toConfiguredKeys,
  validateApi1ParamConfig,
} from "./fields.js";
