// @psphub/psp-sim: the reference tenant backend, usable in-process (a demo command, tests).
export {
  DEFAULT_PORT,
  loadSimConfig,
  type ParamConfigFile,
  readIntegrationsFile,
  readParamConfigFile,
  SimConfigError,
  USAGE,
} from "./config.js";
export {
  checkFxMode,
  createFxRateApi,
  DEFAULT_FX_RATES,
  FX_MODES,
  type FxApiOptions,
  type FxMode,
  type FxRateApi,
} from "./fx-rate-api.js";
export type { SimEvent, SimOrder } from "./pages.js";
export {
  createSim,
  type RunningSim,
  SIM_MODES,
  type Sim,
  type SimIntegration,
  type SimIntegrations,
  type SimMode,
  type SimOptions,
  startSim,
} from "./sim-server.js";
export {
  createWebhookReceiver,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from "./webhook-receiver.js";
