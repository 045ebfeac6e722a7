// @psphub/protocol: the PSP Open API on the wire (signatures, fields, error types, money).
// Configuring an integration's API-1 parameters is @psphub/protocol/admin (admin.ts).
// Runs in Node and in browsers; no runtime dependencies.

export { COUNTRY_CODES, isCountryCode } from "./countries.js";
export {
  CALLBACK_ERROR_TYPES,
  type CallbackErrorBody,
  type CallbackErrorType,
  type CallbackErrorTypeInfo,
  callbackErrorBody,
  isCallbackErrorType,
  MoneyError,
  type MoneyErrorCode,
  ProtocolError,
  type ProtocolErrorCode,
} from "./errors.js";
export { computeFee, type FeeRule } from "./fees.js";
export {
  API1_MSG_MAX_LENGTH,
  API1_URL_MAX_LENGTH,
  type Api1ResponseFailure,
  type Api1ResponseResult,
  CALLBACK_FIELDS,
  type CallbackFieldSpec,
  type CallbackMalformed,
  type CallbackParseResult,
  type ParseCallbackOptions,
  type ParsedCallback,
  parseApi1Response,
  parseCallback,
  SIGN_KEY,
} from "./fields.js";
export { type ParsedFlatJson, parseFlatJson, parseFormBody } from "./flat-json.js";
export {
  applyMarkup,
  type Conversion,
  convertMinor,
  convertNet,
  formatRate,
  MAX_MARKUP_BPS,
  MAX_RATE_SIGNIFICANT_DIGITS,
  parseRate,
  type QuoteFigures,
  quoteFigures,
  type Rate,
  tryParseRate,
} from "./fx.js";
export {
  type AmountParseResult,
  formatAmount,
  formatAmountNumber,
  isJsonNumberText,
  isoExponent,
  MAX_EXPONENT,
  MAX_MINOR_UNITS,
  MAX_SIGNIFICANT_DIGITS,
  MIN_EXPONENT,
  parseAmount,
  tryParseAmount,
} from "./money.js";
export {
  isPayoutRequestKey,
  PAYOUT_CALLBACK_FIELDS,
  PAYOUT_CALLBACK_PATH,
  PAYOUT_NOT_FOUND,
  PAYOUT_REQUEST_KEYS,
  PAYOUT_REQUEST_PATH,
  PAYOUT_STATUS_PATH,
  type PayoutRequestAnswer,
  type PayoutRequestBody,
  type PayoutStatusQueryBody,
  parsePayoutCallback,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  signPayoutCallback,
  signPayoutRequest,
  signPayoutStatusQuery,
} from "./payout.js";
export {
  compareKeys,
  constantTimeEquals,
  type FlatParams,
  type FlatValue,
  type SignOptions,
  sign,
  stringA,
  type VerifyFailureReason,
  type VerifyResult,
  verify,
  verifyDetailed,
} from "./signature.js";
export {
  CallbackStatus,
  type CallbackStatusName,
  type CallbackStatusValue,
  callbackStatusName,
  isCallbackStatus,
  isFinalCallbackStatus,
} from "./status.js";
export {
  ORDER_NOT_FOUND,
  parseStatusAnswer,
  STATUS_QUERY_PATH,
  type StatusAnswer,
  type StatusQueryBody,
  signStatusQuery,
} from "./status-query.js";
export {
  newWebhookSecret,
  parseWebhookSecret,
  signWebhook,
  WEBHOOK_HEADERS,
  WEBHOOK_SECRET_PREFIX,
  WEBHOOK_SIGNATURE_VERSION,
  type WebhookMessage,
  webhookSignatures,
} from "./webhook-signature.js";
