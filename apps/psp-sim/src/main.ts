// `psp-sim`: starts the reference tenant backend from flags and environment variables.
import { callbackEndpoint, payoutCallbackEndpoint } from "@psphub/sdk";
import { loadSimConfig, SimConfigError, USAGE } from "./config.js";
import { startSim } from "./sim-server.js";

async function main(): Promise<number> {
  let options: ReturnType<typeof loadSimConfig>;
  try {
    options = loadSimConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof SimConfigError) {
      console.error(`psp-sim: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  const running = await startSim(options);
  console.log(`psp-sim listening on ${running.url}`);
  console.log(`  API-1: set the integration's APP_URL to ${running.publicUrl}`);
  console.log(`  API-2: callbacks go to ${callbackEndpoint(options.callbackUrl)}`);
  console.log(`  API-3: status queries answered on ${running.publicUrl}/pay/status`);
  console.log(
    `  payouts: API-4 on ${running.publicUrl}/payout/request, API-5 to ${payoutCallbackEndpoint(options.callbackUrl)}, payout status on ${running.publicUrl}/payout/status`,
  );
  if (running.sim.webhooks.enabled)
    console.log(`  webhooks: POST ${running.url}/webhooks verifies and prints the CRM's webhooks`);
  if (options.modes !== undefined && options.modes.length > 0)
    console.log(`  modes: ${options.modes.join(", ")}`);
  const stop = (): void => {
    running.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`psp-sim: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
