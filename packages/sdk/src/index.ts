// @psphub/sdk: what a tenant backend needs to speak the PSP Open API with the CRM.
// API-1 (the CRM asks for a payment URL), API-2 (the tenant reports the result), API-3 (the
// CRM asks where an order stands), the payouts (API-4 the CRM asks to pay a client out, API-5
// the tenant reports it, the payout status query), and verifying the CRM's outbound webhooks.
// Depends on @psphub/protocol only; no framework, no `node:` imports.

export {
  api1FastifyPlugin,
  type ExpressLikeRequest,
  type NodeLikeRequest,
  type NodeLikeResponse,
  toExpressHandler,
  toFetchHandler,
  toNodeHandler,
} from "./adapters.js";
export {
  type Api1Handler,
  type Api1HandlerOptions,
  type Api1Input,
  type Api1Output,
  type Api1ParamConfigInput,
  type Api1Rejection,
  api1Failure,
  api1Success,
  createApi1Handler,
  DEFAULT_API1_MAX_BODY_BYTES,
  type PaymentAnswer,
  type PaymentRequest,
  resolveParamConfig,
} from "./api1-handler.js";
export {
  buildCallback,
  type Callback,
  type CallbackOrder,
  callbackEndpoint,
  type EncodedCallback,
  encodeCallback,
  type Outcome,
  type OutcomeName,
} from "./callback.js";
export {
  type AttemptInfo,
  type DeliveryOptions,
  type RetryPolicy,
  type SendCallbackOptions,
  type SendCallbackResult,
  sendCallback,
} from "./callback-sender.js";
export {
  SdkError,
  type SdkErrorCode,
  type WebhookVerificationCode,
  WebhookVerificationError,
} from "./errors.js";
export {
  buildPayoutCallback,
  type CallbackPayout,
  encodePayoutCallback,
  type PayoutCallback,
  type PayoutOutcome,
  payoutCallbackEndpoint,
  type SendPayoutCallbackOptions,
  sendPayoutCallback,
} from "./payout-callback.js";
export {
  createPayoutRequestHandler,
  type OncePerPayoutOptions,
  oncePerPayout,
  type PayoutAnswer,
  type PayoutRejection,
  type PayoutRequest,
  type PayoutRequestHandler,
  type PayoutRequestHandlerOptions,
} from "./payout-handler.js";
export {
  createPayoutStatusHandler,
  type PayoutStatus,
  type PayoutStatusHandler,
  type PayoutStatusHandlerOptions,
  type PayoutStatusQuery,
  type PayoutStatusRejection,
} from "./payout-status-handler.js";
export {
  type HandlerInput,
  type HandlerOutput,
  type HeaderBag,
  headerValue,
  type RequestHandler,
  TEST_ORDER_HEADER,
  TOKEN_HEADER,
  type TokenSource,
} from "./request-checks.js";
export {
  createStatusQueryHandler,
  type OrderStatus,
  type StatusQuery,
  type StatusQueryHandler,
  type StatusQueryHandlerOptions,
  type StatusQueryRejection,
} from "./status-query-handler.js";
export { payoutTestHookSteps, type TestHookStep, testHookSteps } from "./test-hooks.js";
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  type VerifyWebhookResult,
  verifyWebhook,
} from "./verify-webhook.js";
