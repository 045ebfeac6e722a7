import { writeFileSync } from "node:fs";
import { type Api1ParamConfigInput, resolveParamConfig, SdkError } from "@psphub/sdk";
import { newOrderNo } from "../common/ids.js";
import { createGuardedClient } from "../infra/http-out/guarded-client.js";
import { caseLine, junitXml, summaryLine } from "../modules/certify/certify-report.js";
import { runCertify } from "../modules/certify/certify-suite.js";
import { type Command, requireString, UsageError } from "./command.js";
import { type CliIo, processIo } from "./protocol-commands.js";

// `psphub certify`: the conformance suite (docs/certify.md) against a tenant backend, from a
// terminal or a CI job. Like the server, it reaches private and loopback addresses only with
// ALLOW_PRIVATE_APP_URLS=true, and accepts http payment URLs only with ALLOW_HTTP_PAYMENT_URLS=true.

const str = (description: string) => ({ type: "string" as const, description });
const bool = (description: string) => ({ type: "boolean" as const, description });
const flagOn = (env: NodeJS.ProcessEnv, name: string) => env[name] === "true" || env[name] === "1";

export function createCertifyCommand(io: CliIo = processIo, env: NodeJS.ProcessEnv = process.env): Command {
  return {
    name: "certify",
    summary: "run the conformance suite against a tenant backend (API-1, and API-3 with --status-query)",
    usage:
      "certify --app-url U --merchant-id M --token T [--status-query] [--param-config JSON] [--custom-keys K,…] [--json FILE] [--junit FILE]",
    options: {
      "app-url": str("the integration's APP_URL (/pay/url and /pay/status are appended)"),
      "merchant-id": str("merchant_id of the integration"),
      token: str("the integration's token (sent as crm-pay-token, signs; never printed)"),
      "status-query": bool("the integration has status queries (API-3) enabled"),
      "param-config": str('the integration\'s key configuration, JSON: {"order_no":{"key":"orderId"}}'),
      "custom-keys": str("the integration's custom parameter keys, comma-separated"),
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

      const http = createGuardedClient({ allowPrivate: flagOn(env, "ALLOW_PRIVATE_APP_URLS") });
      try {
        io.out(`psphub certify ${appUrl} (merchant_id ${merchantId})`);
        const report = await runCertify(
          {
            appUrl,
            merchantId,
            token,
            paramConfig,
            customKeys,
            statusQuery: values["status-query"] === true,
            allowHttpUrls: flagOn(env, "ALLOW_HTTP_PAYMENT_URLS"),
          },
          { http, now: Date.now, newOrderNo },
          (c) => io.out(caseLine(c)),
        );
        io.out(summaryLine(report));
        if (typeof values.json === "string")
          writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
        if (typeof values.junit === "string") writeFileSync(values.junit, junitXml(report));
        return report.counts.failed === 0 ? 0 : 1;
      } finally {
        await http.close();
      }
    },
  };
}

export const certifyCommand = createCertifyCommand();
