import { ServiceBusyError } from "../../common/errors.js";

export const METHOD_TEMPORARILY_UNAVAILABLE = "method_temporarily_unavailable";

/** 503 while the method's integration's API-1 breaker is open: nothing was created. */
export const methodTemporarilyUnavailable = (retryAfterSeconds: number) =>
  new ServiceBusyError(
    METHOD_TEMPORARILY_UNAVAILABLE,
    "This deposit method is temporarily unavailable: its payment provider is not answering; try again later or use another method",
    retryAfterSeconds,
  );
