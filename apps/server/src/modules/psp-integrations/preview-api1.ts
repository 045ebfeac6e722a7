import { type FlatParams, formatAmountNumber, sign, stringA } from "@psphub/protocol";
import { defaultApi1ParamConfig, toConfiguredKeys } from "@psphub/protocol/admin";
import { ValidationError } from "../../common/errors.js";
import { parseInput } from "../../common/validation.js";
import { type Api1PreviewInput, api1PreviewInput } from "./integration-schemas.js";
import { buildParamSetup } from "./param-setup.js";

/** The public sample token previews sign with. Never a real token; shown as such in the UI. */
export const SAMPLE_TOKEN = "SAMPLE-TOKEN-not-a-real-token";

/** The fixed sample order previews describe. */
export const SAMPLE_ORDER = {
  merchantId: "0123456789abcdef0123456789abcdef",
  orderNo: "a1b2c3d4e5f6",
  amountMinor: 10_000n, // "100.00"
  currency: "USD",
  decimals: 2,
  userId: "u1s2e3r4",
  userName: "Jane Sample",
  email: "jane.sample@example.com",
  phone: "+15555550100",
  nationality: "us",
  language: "en-us",
  device: "pc",
} as const;

/** A plausible sample value for a custom parameter of each type (a select shows its first option). */
function sampleValue(p: { type: string; options?: string[] }): string {
  switch (p.type) {
    case "select":
      return p.options?.[0] ?? "sample";
    case "number":
      return "12345";
    case "email":
      return "jane.sample@example.com";
    case "phone":
      return "+15555550100";
    default:
      return "sample";
  }
}

/**
 * The API-1 request a configuration would send for the sample order (pure): the JSON body
 * under the configured keys, disabled parameters left out, custom parameters with a sample of their type,
 * its StringA and `sign` made with {@link SAMPLE_TOKEN}. `amount` is a JSON number (100).
 */
export function previewApi1(input: Api1PreviewInput): {
  body: Record<string, string | number>;
  stringA: string;
  sign: string;
  sampleToken: string;
} {
  const data = parseInput(api1PreviewInput, input);
  const setup = buildParamSetup(defaultApi1ParamConfig(), data.paramConfig, data.customParams);
  if (setup.issues.length > 0)
    throw new ValidationError("The parameter configuration is invalid", setup.issues);

  const s = SAMPLE_ORDER;
  const custom: Record<string, string> = {};
  for (const p of setup.customParams) custom[p.key] = sampleValue(p);
  const wire: FlatParams = toConfiguredKeys(
    {
      named: {
        merchant_id: data.merchantId ?? s.merchantId,
        order_no: s.orderNo,
        amount: Number(formatAmountNumber(s.amountMinor, s.decimals)),
        currency: s.currency,
        user_id: s.userId,
        user_name: s.userName,
        email: s.email,
        phone: s.phone,
        nationality: s.nationality,
        language: s.language,
        device: s.device,
      },
      custom,
    },
    setup.paramConfig,
  );
  const signature = sign(wire, SAMPLE_TOKEN);
  const body: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(wire)) body[k] = v as string | number;
  body.sign = signature;
  return { body, stringA: stringA(wire), sign: signature, sampleToken: SAMPLE_TOKEN };
}
