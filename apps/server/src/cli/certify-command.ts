import { writeFileSync } from "node:fs";
import { isPayoutRequestKey } from "@psphub/protocol";
import { type Api1ParamConfigInput, resolveParamConfig, SdkError } from "@psphub/sdk";
import { newOrderNo } from "../common/ids.js";
import { createGuardedClient } from "../infra/http-out/guarded-client.js";
import { type CrmEmulator, startCrmEmulator } from "../modules/certify/certify-crm-emulator.js";
import { caseLine, junitXml, summaryLine } from "../modules/certify/certify-report.js";
import { runCertify } from "../modules/certify/certify-suite.js";
import { type Command, requireString, UsageError } from "./command.js";
import { type CliIo, processIo } from "./protocol-commands.js";

// `psphub certify`: the conformance suite (docs/certify.md) against a tenant backend, from a
// terminal or a CI job. Like the server, it reaches private and loopback addresses only with
// ALLOW_PRIVATE_APP_URLS=true, and accepts http payment URLs only with ALLOW_HTTP_PAYMENT_URLS=true.
// With --callback-port it listens for the backend's callbacks as the CRM would (API-2 cases, and
// API-5 with --payouts).

const str = (description: string) => ({ type: "string" as const, description });
const bool = (description: string) => ({ type: "boolean" as const, description });
const flagOn = (env: NodeJS.ProcessEnv, name: string) => env[name] === "true" || env[name] === "1";

export function createCertifyCommand(io: CliIo = processIo, env: NodeJS.ProcessEnv = process.env): Command {
  return {
    name: "certify",
    summary:
      "run the conformance suite against a tenant backend (API-1, API-3 with --status-query, payouts with --payouts)",
    usage:
      "certify --app-url U --merchant-id M --token T [--callback-port P] [--callback-host H] [--manual] [--previous-token T] [--status-query] [--payouts] [--payout-fields JSON] [--param-config JSON] [--custom-keys K,…] [--json FILE] [--junit FILE]",
    options: {
      "app-url": str("the integration's APP_URL (/pay/url and /pay/status are appended)"),
      "merchant-id": str("merchant_id of the integration"),
      token: str("the integration's token (sent as crm-pay-token, signs; never printed)"),
      "status-query": bool("the integration has status queries (API-3) enabled"),
      payouts: bool("the backend takes payouts: run the API-4, API-5 and payout status query cases"),
      "payout-fields": str(
        'the client\'s fields of the test payout, JSON (default {"iban":"DE89370400440532013000"})',
      ),
      "param-config": str('the integration\'s key configuration, JSON: {"order_no":{"key":"orderId"}}'),
      "custom-keys": str("the integration's custom parameter keys, comma-separated"),
      "callback-port": str(
        "listen for the backend's callbacks on this port (0: any); point its CRM_Callback_URL at the address printed",
      ),
      "callback-host": str("the address to listen on for callbacks (default 127.0.0.1)"),
      manual: bool("the backend has no test hooks: you act on each test order's payment page when asked"),
      "manual-wait": str("manual mode: seconds to wait for each order's first callback (default 600)"),
      "previous-token": str("the token before a rotation, in its grace period (runs the rotation case)"),
      json: str("also write the report as JSON to this file"),
      junit: str("also write the report as JUnit XML to this file"),
    },
    async run(values) {
      const appUrl = requireString(values, "app-url");
      try {
        const u = new URL(appUrl);
        if (u.protocol !== "https:" && u.protocol !== "http:") throw new Error("not http(s)");
      } catch {
        throw new UsageError(`--app-url ${JSON.stringify(appUrl)} is not an http(s) URL`);
      }
      const merchantId = requireString(values, "merchant-id");
      const token = requireString(values, "token");
      const customKeys =
        typeof values["custom-keys"] === "string"
          ? values["custom-keys"]
              .split(",")
              .map((k) => k.trim())
              .filter(Boolean)
          : [];
      let paramConfig: ReturnType<typeof resolveParamConfig>;
      try {
        const text = values["param-config"];
        const input = typeof text === "string" ? (JSON.parse(text) as Api1ParamConfigInput) : undefined;
        paramConfig = resolveParamConfig(input, customKeys);
      } catch (error) {
        if (error instanceof SyntaxError)
          throw new UsageError(`--param-config is not JSON: ${error.message}`);
        if (error instanceof SdkError) throw new UsageError(`--param-config: ${error.message}`);
        throw error;
      }

      let payoutFields: Record<string, string> | undefined;
      if (typeof values["payout-fields"] === "string") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(values["payout-fields"]);
        } catch (error) {
          throw new UsageError(`--payout-fields is not JSON: ${(error as Error).message}`);
        }
        if (
          typeof parsed !== "object" ||
          parsed === null ||
          Array.isArray(parsed) ||
          !Object.values(parsed).every((v) => typeof v === "string")
        )
          throw new UsageError('--payout-fields must be a JSON object of strings: {"iban":"…"}');
        const reused = Object.keys(parsed).filter(isPayoutRequestKey);
        if (reused.length > 0)
          throw new UsageError(`--payout-fields: ${reused.join(", ")} is one of API-4's own keys`);
        if (values.payouts !== true) throw new UsageError("--payout-fields needs --payouts");
        payoutFields = parsed as Record<string, string>;
      }

      const previousToken =
        typeof values["previous-token"] === "string" ? values["previous-token"] : undefined;
      const port = values["callback-port"];
      const portNumber = typeof port === "string" ? Number(port) : undefined;
      if (
        portNumber !== undefined &&
        !(Number.isInteger(portNumber) && portNumber >= 0 && portNumber <= 65_535)
      )
        throw new UsageError(`--callback-port ${JSON.stringify(port)} is not a port number`);
      const manualWait = values["manual-wait"] === undefined ? 600 : Number(values["manual-wait"]);
      if (!(Number.isFinite(manualWait) && manualWait > 0))
        throw new UsageError("--manual-wait must be a number of seconds");
      if (values.manual === true && portNumber === undefined)
        throw new UsageError("--manual needs --callback-port: the suite must receive the callbacks");

      const http = createGuardedClient({ allowPrivate: flagOn(env, "ALLOW_PRIVATE_APP_URLS") });
      let crm: CrmEmulator | undefined;
      try {
        io.out(`psphub certify ${appUrl} (merchant_id ${merchantId})`);
        if (portNumber !== undefined) {
          crm = await startCrmEmulator({
            port: portNumber,
            host: typeof values["callback-host"] === "string" ? values["callback-host"] : "127.0.0.1",
            token,
            ...(previousToken ? { previousToken } : {}),
            now: Date.now,
          });
          io.out(`callbacks: the backend's CRM_Callback_URL must be ${crm.url}`);
        } else {
          io.out("callbacks: not received (no --callback-port), so the API-2 cases are skipped");
        }
        const report = await runCertify(
          {
            appUrl,
            merchantId,
            token,
            paramConfig,
            customKeys,
            statusQuery: values["status-query"] === true,
            payouts: values.payouts === true,
            ...(payoutFields ? { payoutFields } : {}),
            allowHttpUrls: flagOn(env, "ALLOW_HTTP_PAYMENT_URLS"),
            ...(previousToken ? { previousToken } : {}),
          },
          {
            http,
            now: Date.now,
            newOrderNo,
            ...(crm ? { inbox: crm.inbox } : {}),
            ...(values.manual === true
              ? {
                  manual: {
                    waitMs: manualWait * 1000,
                    ask: (p) => io.out(`act     ${p.caseId.padEnd(22)} open ${p.url} and ${p.action}`),
                  },
                }
              : {}),
          },
          (c) => io.out(caseLine(c)),
        );
        io.out(summaryLine(report));
        if (typeof values.json === "string")
          writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
        if (typeof values.junit === "string") writeFileSync(values.junit, junitXml(report));
        return report.certified ? 0 : 1;
      } finally {
        await crm?.close();
        await http.close();
      }
    },
  };
}

export const certifyCommand = createCertifyCommand();
