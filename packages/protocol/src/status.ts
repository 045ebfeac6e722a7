/** API-2 `status` values: 0 fail, 1 success, 2 processing (docs/psp-open-api.md#api-2-fields). */
export const CallbackStatus = { FAILED: 0, SUCCEEDED: 1, PROCESSING: 2 } as const;

/** One of the three API-2 status numbers. */
export type CallbackStatusValue = (typeof CallbackStatus)[keyof typeof CallbackStatus];

/** The name of a status value, as in {@link CallbackStatus}. */
export type CallbackStatusName = keyof typeof CallbackStatus;

/**
 * Whether `value` is one of the API-2 status numbers (0, 1, 2). Anything else in a callback
 * answers `payment_status_not_allowed`, not `request_malformed` (docs/psp-open-api.md#api-2-error-types).
 */
export function isCallbackStatus(value: unknown): value is CallbackStatusValue {
  return value === 0 || value === 1 || value === 2;
}

/** Whether a status is final ("1 and 0 are final": docs/psp-open-api.md#statuses); 2 (processing) is not. */
export function isFinalCallbackStatus(value: CallbackStatusValue): boolean {
  return value !== CallbackStatus.PROCESSING;
}

/** The name of a status value (`1` → `"SUCCEEDED"`), for logs and admin screens. */
export function callbackStatusName(value: CallbackStatusValue): CallbackStatusName {
  switch (value) {
    case CallbackStatus.FAILED:
      return "FAILED";
    case CallbackStatus.SUCCEEDED:
      return "SUCCEEDED";
    case CallbackStatus.PROCESSING:
      return "PROCESSING";
  }
}
