import { describe, expect, it } from "vitest";
import * as sdk from "./index.js";

describe("index", () => {
  it("exports the handler adapters and the callback sender", () => {
    for (const name of [
      "createApi1Handler",
      "toNodeHandler",
      "toExpressHandler",
      "toFetchHandler",
      "api1FastifyPlugin",
      "createStatusQueryHandler",
      "buildCallback",
      "encodeCallback",
      "sendCallback",
      "SdkError",
      "verifyWebhook",
      "WebhookVerificationError",
      "createPayoutRequestHandler",
      "oncePerPayout",
      "createPayoutStatusHandler",
      "buildPayoutCallback",
      "encodePayoutCallback",
      "payoutCallbackEndpoint",
      "sendPayoutCallback",
      "payoutTestHookSteps",
    ]) {
      expect(sdk, name).toHaveProperty(name);
    }
  });

  it("keeps the node:http plumbing of the adapters and the shared cores internal", () => {
    expect(sdk).not.toHaveProperty("readNodeBody");
    expect(sdk).not.toHaveProperty("writeNodeOutput");
    expect(sdk).not.toHaveProperty("deliver");
    expect(sdk).not.toHaveProperty("encodeSigned");
    expect(sdk).not.toHaveProperty("createStatusHandler");
  });
});
