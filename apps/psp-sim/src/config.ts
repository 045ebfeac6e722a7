import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseWebhookSecret } from "@psphub/protocol";
import { type Api1ParamConfigInput, callbackEndpoint, resolveParamConfig, SdkError } from "@psphub/sdk";
import { checkFxMode, type FxApiOptions, type FxMode } from "./fx-rate-api.js";
import { checkModes, type SimIntegration, type SimMode, type SimOptions } from "./sim-server.js";

/** A configuration the simulator cannot start with; the message names the flag or variable. */
export class SimConfigError extends Error {
  override readonly name = "SimConfigError";
}

export const DEFAULT_PORT = 4100;

export const USAGE = `psp-sim: the psphub reference tenant backend (API-1, a payment page, API-2 callbacks, payouts)

usage: psp-sim --callback-url URL (--token TOKEN | --integrations FILE) [options]

options (each also read from the environment variable shown):
  --callback-url <url>       CRM_Callback_URL of the integration; /pay/callback (API-2) and    PSP_SIM_CALLBACK_URL
                             /payout/callback (API-5) are appended
  --token <token>            the integration's token                                           PSP_SIM_TOKEN
  --previous-token <token>   the token before a rotation, still accepted on API-1             PSP_SIM_PREVIOUS_TOKEN
  --integrations <file>      JSON: { "integrations": [{ "token": "…", "merchantId": "…",      PSP_SIM_INTEGRATIONS
                             "paramConfig": {…}, "customKeys": […] }, …] }: serve several
                             integrations (with or without --token); read again on every
                             API-1 request, so edits apply at once
  --port <n>                 port to listen on (default ${DEFAULT_PORT})                                 PSP_SIM_PORT
  --host <addr>              address to listen on (default 127.0.0.1)                          PSP_SIM_HOST
  --public-url <url>         this simulator's base URL for payment page links                 PSP_SIM_PUBLIC_URL
                             (default http://<host>:<port>)
  --param-config <file>      JSON: { "paramConfig": { "order_no": { "key": "orderId" } },    PSP_SIM_PARAM_CONFIG
                             "customKeys": ["custom_1"], "currencyExponents": { "USDT": 6 } }
  --callback-deadline-seconds <n>                                                              PSP_SIM_CALLBACK_DEADLINE_SECONDS
                             how long to retry a callback on network errors and 5xx (default 10)
  --mode <modes>             comma-separated, for testing status queries (API-3):              PSP_SIM_MODE
                             not_found, slow, garbage, bad_sign (one of these three at most),
                             lost_callback (never send a callback); broken API-1 and API-2
                             for psphub certify: api1_no_checks, api1_new_url, api1_slow,
                             api2_no_retry, api2_retry_4xx, api2_amount_string,
                             api2_time_seconds, api2_bad_sign; payouts: payout_refuse,
                             payout_lost_callback, payout_auto_pay, and broken for certify
                             payout_not_idempotent, payout_bad_sign;
                             an integration in --integrations may name its own "modes": [...]
  --slow-seconds <n>         how long the slow mode waits before answering (default 15)        PSP_SIM_SLOW_SECONDS
  --fx-key <key>             the key header GET /fx/rate requires (default: none needed)      PSP_SIM_FX_KEY
  --fx-mode <mode>           the exchange-rate API misbehaves: slow, failing, garbage, stale   PSP_SIM_FX_MODE
  --fx-rates <list>          the rate table, e.g. EUR/USD=1.0781,GBP/USD=1.2650               PSP_SIM_FX_RATES
                             (default EUR/USD, USD/EUR, GBP/USD, USD/GBP)
  --webhook-secret <list>    whsec_… secret(s) of the CRM's outbound webhooks, comma-separated  PSP_SIM_WEBHOOK_SECRET
                             (two while one rotates): POST /webhooks verifies and prints them
  -h, --help                 this text

Set the integration's APP_URL in the CRM to the simulator's public URL.`;

/** The parameter configuration file: `{ paramConfig?, customKeys?, currencyExponents? }`. */
export interface ParamConfigFile {
  readonly paramConfig?: Api1ParamConfigInput;
  readonly customKeys?: readonly string[];
  readonly currencyExponents?: Readonly<Record<string, number>>;
}

/** Reads and checks a parameter configuration file (JSON). A bare param config object works too. */
export function readParamConfigFile(
  path: string,
  read: (path: string) => string = readText,
): ParamConfigFile {
  let json: unknown;
  try {
    json = JSON.parse(read(path));
  } catch (error) {
    throw new SimConfigError(`--param-config ${path}: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SimConfigError(`--param-config ${path}: expected a JSON object`);
  }
  const obj = json as Record<string, unknown>;
  const structured = "paramConfig" in obj || "customKeys" in obj || "currencyExponents" in obj;
  const file: ParamConfigFile = structured
    ? (obj as ParamConfigFile)
    : { paramConfig: obj as Api1ParamConfigInput };
  if (
    file.customKeys !== undefined &&
    !(Array.isArray(file.customKeys) && file.customKeys.every((k) => typeof k === "string"))
  ) {
    throw new SimConfigError(`--param-config ${path}: customKeys must be an array of strings`);
  }
  if (file.currencyExponents !== undefined) {
    const ok =
      typeof file.currencyExponents === "object" &&
      file.currencyExponents !== null &&
      Object.values(file.currencyExponents).every((e) => Number.isInteger(e) && e >= 0 && e <= 8);
    if (!ok) throw new SimConfigError(`--param-config ${path}: currencyExponents must map codes to 0..8`);
  }
  try {
    resolveParamConfig(file.paramConfig, file.customKeys ?? []);
  } catch (error) {
    if (error instanceof SdkError) throw new SimConfigError(`--param-config ${path}: ${error.message}`);
    throw error;
  }
  return file;
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}

/**
 * Reads and checks an integrations file (JSON): `{ "integrations": [{ token, previousToken?,
 * merchantId?, paramConfig?, customKeys? }, …] }` or the bare array.
 */
export function readIntegrationsFile(
  path: string,
  read: (path: string) => string = readText,
): SimIntegration[] {
  const fail = (message: string) => new SimConfigError(`--integrations ${path}: ${message}`);
  let json: unknown;
  try {
    json = JSON.parse(read(path));
  } catch (error) {
    throw fail((error as Error).message);
  }
  const list = Array.isArray(json) ? json : (json as { integrations?: unknown } | null)?.integrations;
  if (!Array.isArray(list)) throw fail('expected { "integrations": [ … ] }');
  return list.map((item: unknown, i): SimIntegration => {
    if (typeof item !== "object" || item === null || Array.isArray(item))
      throw fail(`integrations[${i}]: expected an object`);
    const o = item as Record<string, unknown>;
    const text = (key: string, required: boolean): string | undefined => {
      const v = o[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== "string" || v === "")
        throw fail(`integrations[${i}].${key} must be a non-empty string`);
      return v;
    };
    const token = text("token", true)!;
    const previousToken = text("previousToken", false);
    const merchantId = text("merchantId", false);
    const customKeys = o.customKeys;
    if (
      customKeys !== undefined &&
      !(Array.isArray(customKeys) && customKeys.every((k) => typeof k === "string"))
    ) {
      throw fail(`integrations[${i}].customKeys must be an array of strings`);
    }
    const paramConfig = o.paramConfig as Api1ParamConfigInput | undefined;
    let modes: SimMode[] | undefined;
    try {
      resolveParamConfig(paramConfig, (customKeys as string[] | undefined) ?? []);
      if (o.modes !== undefined) {
        if (!Array.isArray(o.modes) || !o.modes.every((m) => typeof m === "string")) {
          throw new SdkError("invalid_config", "modes must be an array of mode names");
        }
        modes = checkModes(o.modes);
      }
    } catch (error) {
      if (error instanceof SdkError) throw fail(`integrations[${i}]: ${error.message}`);
      throw error;
    }
    return {
      token,
      ...(previousToken === undefined ? {} : { previousToken }),
      ...(merchantId === undefined ? {} : { merchantId }),
      ...(paramConfig === undefined ? {} : { paramConfig }),
      ...(customKeys === undefined ? {} : { customKeys: customKeys as string[] }),
      ...(modes === undefined ? {} : { modes }),
    };
  });
}

function integer(text: string, name: string, min: number, max: number): number {
  if (!/^[0-9]{1,6}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new SimConfigError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** `--fx-rates EUR/USD=1.0781,GBP/USD=1.2650` replaces the default table. */
function fxOptions(key?: string, modeText?: string, ratesText?: string): FxApiOptions | undefined {
  if (key === undefined && modeText === undefined && ratesText === undefined) return undefined;
  let mode: FxMode | null = null;
  if (modeText !== undefined) {
    try {
      mode = checkFxMode(modeText.trim());
    } catch (error) {
      throw new SimConfigError(`--fx-mode: ${(error as Error).message}`);
    }
  }
  let rates: Record<string, string> | undefined;
  if (ratesText !== undefined) {
    rates = {};
    for (const item of ratesText
      .split(",")
      .map((r) => r.trim())
      .filter((r) => r !== "")) {
      const m = /^([A-Z][A-Z0-9]{2,9})\/([A-Z][A-Z0-9]{2,9})=([0-9]+(?:\.[0-9]+)?)$/.exec(item);
      if (!m) throw new SimConfigError(`--fx-rates: ${JSON.stringify(item)} is not like EUR/USD=1.0781`);
      rates[`${m[1]}/${m[2]}`] = m[3]!;
    }
  }
  return { ...(key === undefined ? {} : { key }), mode, ...(rates === undefined ? {} : { rates }) };
}

/** `--webhook-secret`: whsec_ secrets, comma-separated (base64 has no comma), each checked now. */
function webhookSecretList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const secrets = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const secret of secrets) {
    try {
      parseWebhookSecret(secret);
    } catch (error) {
      throw new SimConfigError(`--webhook-secret: ${(error as Error).message}`);
    }
  }
  return secrets;
}

/**
 * The simulator's options from command-line flags and the environment (flags win). Answers
 * `"help"` for `--help`. Throws {@link SimConfigError} with a message naming the flag.
 */
export function loadSimConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  read?: (path: string) => string,
): SimOptions | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "callback-url": { type: "string" },
        token: { type: "string" },
        "previous-token": { type: "string" },
        integrations: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "public-url": { type: "string" },
        "param-config": { type: "string" },
        "callback-deadline-seconds": { type: "string" },
        mode: { type: "string" },
        "slow-seconds": { type: "string" },
        "fx-key": { type: "string" },
        "fx-mode": { type: "string" },
        "fx-rates": { type: "string" },
        "webhook-secret": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new SimConfigError((error as Error).message);
  }
  if (values.help === true) return "help";
  const pick = (flag: string, variable: string): string | undefined => {
    const v = values[flag];
    if (typeof v === "string" && v !== "") return v;
    const e = env[variable];
    return e === undefined || e === "" ? undefined : e;
  };

  const callbackUrl = pick("callback-url", "PSP_SIM_CALLBACK_URL");
  if (callbackUrl === undefined) {
    throw new SimConfigError(
      "--callback-url (or PSP_SIM_CALLBACK_URL) is required: the CRM_Callback_URL of the integration",
    );
  }
  try {
    callbackEndpoint(callbackUrl);
  } catch (error) {
    throw new SimConfigError(`--callback-url: ${(error as Error).message}`);
  }
  const token = pick("token", "PSP_SIM_TOKEN");
  const integrationsPath = pick("integrations", "PSP_SIM_INTEGRATIONS");
  if (token === undefined && integrationsPath === undefined) {
    throw new SimConfigError(
      "--token (or PSP_SIM_TOKEN) is required: the integration's token (or --integrations for several)",
    );
  }
  // Checked now, so a broken file stops the start; read again on every request after that.
  if (integrationsPath !== undefined) readIntegrationsFile(integrationsPath, read);
  const previousToken = pick("previous-token", "PSP_SIM_PREVIOUS_TOKEN");
  const portText = pick("port", "PSP_SIM_PORT");
  const port = portText === undefined ? DEFAULT_PORT : integer(portText, "--port", 0, 65535);
  const host = pick("host", "PSP_SIM_HOST") ?? "127.0.0.1";
  const publicUrl = pick("public-url", "PSP_SIM_PUBLIC_URL");
  if (publicUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(publicUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new SimConfigError(
        `--public-url must be an absolute http(s) URL, not ${JSON.stringify(publicUrl)}`,
      );
    }
  }
  const deadlineText = pick("callback-deadline-seconds", "PSP_SIM_CALLBACK_DEADLINE_SECONDS");
  const callbackDeadlineMs =
    deadlineText === undefined
      ? undefined
      : integer(deadlineText, "--callback-deadline-seconds", 0, 86_400) * 1000;
  const modeText = pick("mode", "PSP_SIM_MODE");
  let modes: SimMode[] | undefined;
  if (modeText !== undefined) {
    try {
      modes = checkModes(
        modeText
          .split(",")
          .map((m) => m.trim())
          .filter((m) => m !== ""),
      );
    } catch (error) {
      throw new SimConfigError(`--mode: ${(error as Error).message}`);
    }
  }
  const slowText = pick("slow-seconds", "PSP_SIM_SLOW_SECONDS");
  const slowMs = slowText === undefined ? undefined : integer(slowText, "--slow-seconds", 0, 3600) * 1000;
  const fx = fxOptions(
    pick("fx-key", "PSP_SIM_FX_KEY"),
    pick("fx-mode", "PSP_SIM_FX_MODE"),
    pick("fx-rates", "PSP_SIM_FX_RATES"),
  );
  const webhookSecrets = webhookSecretList(pick("webhook-secret", "PSP_SIM_WEBHOOK_SECRET"));
  const configPath = pick("param-config", "PSP_SIM_PARAM_CONFIG");
  const file = configPath === undefined ? undefined : readParamConfigFile(configPath, read);

  return {
    callbackUrl,
    ...(token === undefined ? {} : { token }),
    ...(integrationsPath === undefined
      ? {}
      : { integrations: () => readIntegrationsFile(integrationsPath, read) }),
    port,
    host,
    ...(previousToken === undefined ? {} : { previousToken }),
    ...(publicUrl === undefined ? {} : { publicUrl: publicUrl.replace(/\/+$/, "") }),
    ...(callbackDeadlineMs === undefined ? {} : { callbackDeadlineMs }),
    ...(modes === undefined ? {} : { modes }),
    ...(slowMs === undefined ? {} : { slowMs }),
    ...(fx === undefined ? {} : { fx }),
    ...(webhookSecrets === undefined ? {} : { webhookSecrets }),
    ...(file?.paramConfig === undefined ? {} : { paramConfig: file.paramConfig }),
    ...(file?.customKeys === undefined ? {} : { customKeys: file.customKeys }),
    ...(file?.currencyExponents === undefined ? {} : { currencyExponents: file.currencyExponents }),
  };
}
