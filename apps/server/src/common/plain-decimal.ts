import { z } from "zod";

/**
 * An amount as a client or an admin types it into the API: plain decimal text only, so
 * "1e2", "+5", " 5" or "1,000.00" are refused at the edge with a message saying what is accepted
 * (docs/psp-open-api.md#deposit-creation). Decimals beyond the currency's are checked later,
 * against the currency.
 */
const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;
export const PLAIN_DECIMAL_MESSAGE =
  "must be plain decimal text: digits, optionally a dot and more digits (no sign, exponent, spaces or thousands separators), e.g. 1000.50";

export const plainDecimal = z.string().max(40).regex(PLAIN_DECIMAL, PLAIN_DECIMAL_MESSAGE);
