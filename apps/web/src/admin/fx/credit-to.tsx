import {
  ActionIcon,
  Autocomplete,
  Button,
  Group,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { UseFormReturnType } from "@mantine/form";
import { isoExponent } from "@psphub/protocol";
import { t } from "../../i18n/index.js";
import { IconPlus, IconTrash } from "../../ui/icons.js";
import { type ConversionValues, newRule, withAccountCurrency } from "../conversion-model.js";
import type { FxSource } from "../types.js";

/**
 * A method currency's "Credit to" block: the account currency (empty = the payment currency,
 * no conversion), its decimals, and the rate rules (the default, then per client group), each
 * with a source and a markup in %. `base` is the block's path in the form
 * (`currencies.<i>.conversion`), where the server's 422 issues land too.
 */
export function CreditToBlock<V>(props: {
  form: UseFormReturnType<V>;
  base: string;
  value: ConversionValues;
  paymentCurrency: string;
  sources: FxSource[];
  groups: string[];
  readOnly: boolean;
}) {
  const { form, base, value: v, readOnly } = props;
  // The whole block is one form value: an edit clears the errors of the fields it changed
  // (a server 422 included), as an input bound with getInputProps would.
  const set = (next: ConversionValues, changed: string[] = []) => {
    form.setFieldValue(base as never, next as never);
    for (const path of changed) form.clearFieldError(`${base}.${path}`);
  };
  const err = (path: string) => form.errors[`${base}.${path}`];
  const on = v.accountCurrency.trim() !== "";
  const code = props.paymentCurrency.trim().toUpperCase();
  const iso = isoExponent(v.accountCurrency.trim().toUpperCase());
  const sourceOptions = props.sources.map((s) => ({
    value: s.id,
    label: `${s.name} (${t(`fx.kind.${s.kind}`)})`,
  }));
  // A rule whose source is not listed (no settings:read, or deleted) still shows its id.
  const optionsWith = (id: string | null) =>
    id && !sourceOptions.some((o) => o.value === id)
      ? [...sourceOptions, { value: id, label: id }]
      : sourceOptions;

  return (
    <Stack gap="xs" mt="sm" data-testid="credit-to" aria-label={t("fx.conv.title")} role="group">
      <Title order={6}>{t("fx.conv.title")}</Title>
      <Group align="flex-start" gap="xs" grow preventGrowOverflow={false}>
        <TextInput
          label={t("fx.conv.accountCurrency")}
          description={t("fx.conv.hint")}
          placeholder={t("fx.conv.same", { code: code || "—" })}
          readOnly={readOnly}
          value={v.accountCurrency}
          error={err("accountCurrency")}
          onChange={(e) => set(withAccountCurrency(v, e.currentTarget.value), ["accountCurrency"])}
          onBlur={() => form.validateField(`${base}.accountCurrency` as never)}
          maw={320}
        />
        {on ? (
          <NumberInput
            label={t("fx.conv.decimals")}
            placeholder={iso === undefined ? t("methods.decimalsNeeded") : `${iso} (ISO)`}
            min={0}
            max={8}
            allowDecimal={false}
            readOnly={readOnly}
            value={v.accountDecimals}
            error={err("accountDecimals")}
            onChange={(d) => set({ ...v, accountDecimals: d }, ["accountDecimals"])}
            maw={200}
          />
        ) : null}
      </Group>
      {on ? (
        <Stack gap={6}>
          {err("rules") ? (
            <Text size="sm" c="red" role="alert">
              {err("rules")}
            </Text>
          ) : null}
          {form.errors[base] ? (
            <Text size="sm" c="red" role="alert">
              {form.errors[base]}
            </Text>
          ) : null}
          {props.sources.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("fx.conv.noSources")}
            </Text>
          ) : null}
          {v.rules.map((r, j) => {
            const setRule = (patch: Partial<typeof r>) =>
              set(
                { ...v, rules: v.rules.map((x, k) => (k === j ? { ...x, ...patch } : x)) },
                Object.keys(patch).map((f) => `rules.${j}.${f}`),
              );
            return (
              <Group key={r.uid} gap="xs" align="flex-start" wrap="wrap" data-rule={r.group ?? "*"}>
                {r.group === null ? (
                  <TextInput label={t("fx.conv.group")} value={t("fx.conv.defaultGroup")} readOnly w={200} />
                ) : (
                  <Autocomplete
                    label={t("fx.conv.group")}
                    data={props.groups}
                    readOnly={readOnly}
                    value={r.group}
                    error={err(`rules.${j}.group`)}
                    onChange={(g) => setRule({ group: g })}
                    w={200}
                  />
                )}
                <Select
                  label={t("fx.conv.source")}
                  data={optionsWith(r.sourceId)}
                  value={r.sourceId}
                  readOnly={readOnly}
                  allowDeselect={false}
                  error={err(`rules.${j}.sourceId`)}
                  onChange={(s) => setRule({ sourceId: s })}
                  w={260}
                />
                <TextInput
                  label={t("fx.conv.markup")}
                  rightSection="%"
                  inputMode="decimal"
                  readOnly={readOnly}
                  value={r.markupPercent}
                  error={err(`rules.${j}.markupPercent`)}
                  onChange={(e) => setRule({ markupPercent: e.currentTarget.value })}
                  w={200}
                />
                {r.group !== null && !readOnly ? (
                  <ActionIcon
                    mt={28}
                    variant="subtle"
                    color="red"
                    onClick={() => set({ ...v, rules: v.rules.filter((_, k) => k !== j) })}
                    aria-label={t("fx.conv.removeRule", { group: r.group || "—" })}
                  >
                    <IconTrash size={16} />
                  </ActionIcon>
                ) : null}
              </Group>
            );
          })}
          <Text size="xs" c="dimmed">
            {t("fx.markup.hint")}
          </Text>
          {readOnly ? null : (
            <Group>
              <Button
                size="xs"
                variant="subtle"
                leftSection={<IconPlus size={14} />}
                onClick={() => set({ ...v, rules: [...v.rules, newRule("")] })}
              >
                {t("fx.conv.addGroupRule")}
              </Button>
            </Group>
          )}
        </Stack>
      ) : null}
    </Stack>
  );
}
