import { ActionIcon, Group, NumberInput, Paper, SimpleGrid, Text, TextInput } from "@mantine/core";
import type { GetInputPropsReturnType } from "@mantine/form";
import { randomId } from "@mantine/hooks";
import { computeFee, isoExponent, tryParseAmount } from "@psphub/protocol";
import type { ReactNode } from "react";
import { type MessageKey, t } from "../i18n/index.js";
import { formatAmount, percentToBps } from "../lib/money.js";
import { IconTrash } from "../ui/icons.js";

/**
 * One currency of a method (deposit or withdrawal) as its settings form edits it: the code, its
 * decimals, the limits and the fee, with the checks the server runs (ISO 4217 decimals, amounts
 * in the currency's decimals, min ≤ max, a percentage) and a worked fee example, all in integer
 * minor units. The deposit method adds its "Credit to" block under the row.
 */
export interface CurrencyRowValues {
  uid: string;
  code: string;
  /** "" = the ISO 4217 exponent. */
  decimals: number | string;
  min: string;
  max: string;
  feePercent: string;
  feeFixed: string;
  /** "" = no cap. */
  feeMax: string;
}

/** A method currency as the API answers it. */
export interface CurrencyView {
  code: string;
  decimals: number;
  min: string;
  max: string;
  feePercent: string;
  feeFixed: string;
  feeMax: string | null;
}

export const newCurrencyRow = (): CurrencyRowValues => ({
  uid: randomId(),
  code: "USD",
  decimals: "",
  min: "10.00",
  max: "5000.00",
  feePercent: "0",
  feeFixed: "0",
  feeMax: "",
});

/** The API's currency as a form row (fresh uid; decimals left empty when they are ISO's). */
export const currencyRowOf = (c: CurrencyView): CurrencyRowValues => ({
  uid: randomId(),
  code: c.code,
  decimals: isoExponent(c.code) === c.decimals ? "" : c.decimals,
  min: c.min,
  max: c.max,
  feePercent: c.feePercent.replace(/\.?0+$/, "") || "0",
  feeFixed: c.feeFixed,
  feeMax: c.feeMax ?? "",
});

/** The row as the API takes it (decimals only when given). */
export const currencyBodyOf = (c: CurrencyRowValues) => ({
  code: c.code.trim().toUpperCase(),
  ...(c.decimals !== "" ? { decimals: Number(c.decimals) } : {}),
  min: c.min.trim(),
  max: c.max.trim(),
  feePercent: c.feePercent.trim() || "0",
  feeFixed: c.feeFixed.trim() || "0",
  feeMax: c.feeMax.trim() ? c.feeMax.trim() : null,
});

/** The currency's exponent: given, else ISO 4217; undefined when neither is known. */
export function currencyDecimals(c: Pick<CurrencyRowValues, "code" | "decimals">): number | undefined {
  if (c.decimals !== "" && Number.isInteger(Number(c.decimals))) return Number(c.decimals);
  return isoExponent(c.code.trim().toUpperCase());
}

/**
 * The checks of row `i` into `e` (form paths `currencies.<i>.<field>`); `seen` collects the codes
 * so far, to refuse one listed twice.
 */
export function currencyRowErrors(
  c: CurrencyRowValues,
  i: number,
  seen: Set<string>,
  e: Record<string, string>,
): void {
  const at = (f: string) => `currencies.${i}.${f}`;
  const code = c.code.trim().toUpperCase();
  if (!/^[A-Z][A-Z0-9]{2,9}$/.test(code)) e[at("code")] = t("methods.codeFormat");
  else if (seen.has(code)) e[at("code")] = t("methods.codeTwice");
  seen.add(code);
  const d = currencyDecimals(c);
  if (d === undefined) {
    e[at("decimals")] = t("methods.decimalsRequired");
    return;
  }
  const amount = (f: "min" | "max" | "feeFixed" | "feeMax", text: string, optional = false) => {
    if (optional && text.trim() === "") return null;
    const r = tryParseAmount(text.trim() || "x", d);
    if (!r.ok) {
      e[at(f)] =
        r.code === "amount_too_precise"
          ? t("validation.tooPrecise", { decimals: d })
          : t("validation.decimal");
      return undefined;
    }
    return r.minor;
  };
  const min = amount("min", c.min);
  const max = amount("max", c.max);
  amount("feeFixed", c.feeFixed.trim() || "0");
  amount("feeMax", c.feeMax, true);
  if (min !== undefined && min !== null && min <= 0n) e[at("min")] = t("methods.minPositive");
  if (typeof min === "bigint" && typeof max === "bigint" && min > max)
    e[at("max")] = t("methods.maxBelowMin");
  const bps = percentToBps(c.feePercent.trim() || "0");
  if (bps === null || bps > 10_000n) e[at("feePercent")] = t("methods.percentFormat");
}

/** How a row's fee example is worded, and whether the fee stops at the amount (a withdrawal's does). */
export interface ExampleWords {
  key: MessageKey;
  capAtAmount: boolean;
}
const DEPOSIT_EXAMPLE: ExampleWords = { key: "methods.feeExample", capAtAmount: false };

/**
 * "Example: 100.00 USD pays a fee of 2.80, 97.20 credited", from the row being edited, in minor
 * units (`words`: a withdrawal pays out what is left).
 */
export function feeExample(c: CurrencyRowValues, words: ExampleWords = DEPOSIT_EXAMPLE): string | null {
  const d = currencyDecimals(c);
  if (d === undefined) return null;
  const min = tryParseAmount(c.min.trim(), d);
  const bps = percentToBps(c.feePercent.trim() || "0");
  const fixed = tryParseAmount(c.feeFixed.trim() || "0", d);
  const cap = c.feeMax.trim() ? tryParseAmount(c.feeMax.trim(), d) : null;
  if (!min.ok || bps === null || !fixed.ok || (cap && !cap.ok)) return null;
  const sample = 10n ** BigInt(d) * 100n > min.minor ? 10n ** BigInt(d) * 100n : min.minor;
  const computed = computeFee(sample, {
    feePercentBps: bps,
    feeFixedMinor: fixed.minor,
    feeMaxMinor: cap?.ok ? cap.minor : null,
  });
  const fee = words.capAtAmount && computed > sample ? sample : computed;
  return t(words.key, {
    amount: formatAmount(sample, d),
    fee: formatAmount(fee, d),
    credit: formatAmount(sample - fee, d),
    code: c.code.trim().toUpperCase(),
  });
}

/** The part of a Mantine form a currency row binds to. */
interface RowForm {
  getInputProps(path: string): GetInputPropsReturnType;
}

/**
 * A currency row: code, decimals, limits and fee inputs bound to `currencies.<index>.*`, what is
 * under it (`children`: the deposit method's "Credit to"), the fee example and a remove button.
 */
export function CurrencyRow(props: {
  form: RowForm;
  index: number;
  row: CurrencyRowValues;
  readOnly: boolean;
  /** null: the row cannot be removed (the only one, or read-only). */
  onRemove: (() => void) | null;
  example?: ExampleWords;
  children?: ReactNode;
}) {
  const { form, index: i, row: c, readOnly } = props;
  const iso = isoExponent(c.code.trim().toUpperCase());
  const example = feeExample(c, props.example);
  return (
    <Paper withBorder p="sm" data-testid={`currency-${i}`}>
      <SimpleGrid cols={{ base: 2, sm: 4, lg: 7 }} spacing="xs">
        <TextInput
          label={t("field.currency")}
          withAsterisk
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.code`)}
        />
        <NumberInput
          label={t("methods.decimals")}
          placeholder={iso === undefined ? t("methods.decimalsNeeded") : `${iso} (ISO)`}
          min={0}
          max={8}
          allowDecimal={false}
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.decimals`)}
        />
        <TextInput
          label={t("methods.min")}
          withAsterisk
          inputMode="decimal"
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.min`)}
        />
        <TextInput
          label={t("methods.max")}
          withAsterisk
          inputMode="decimal"
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.max`)}
        />
        <TextInput
          label={t("methods.feePercent")}
          rightSection="%"
          inputMode="decimal"
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.feePercent`)}
        />
        <TextInput
          label={t("methods.feeFixed")}
          inputMode="decimal"
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.feeFixed`)}
        />
        <TextInput
          label={t("methods.feeMax")}
          placeholder={t("methods.noCap")}
          inputMode="decimal"
          readOnly={readOnly}
          {...form.getInputProps(`currencies.${i}.feeMax`)}
        />
      </SimpleGrid>
      {props.children}
      <Group justify="space-between" mt="xs">
        <Text size="xs" c="dimmed">
          {example ?? ""}
        </Text>
        {props.onRemove ? (
          <ActionIcon
            variant="subtle"
            color="red"
            onClick={props.onRemove}
            aria-label={t("methods.removeCurrency", { code: c.code })}
          >
            <IconTrash size={16} />
          </ActionIcon>
        ) : null}
      </Group>
    </Paper>
  );
}
