import {
  ActionIcon,
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { randomId } from "@mantine/hooks";
import { modals } from "@mantine/modals";
import { computeFee, isoExponent, tryParseAmount } from "@psphub/protocol";
import { useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { formatAmount, percentToBps } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import {
  ErrorAlert,
  notifyError,
  notifySuccess,
  PageLoader,
  ReadOnlyNotice,
  StatusBadge,
} from "../../ui/feedback.js";
import { IconPlus, IconTrash } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { SaveBar, showSaveError } from "../../ui/save-bar.js";
import { useFormError } from "../../ui/use-form-error.js";
import { useUnsavedGuard } from "../../ui/use-unsaved-guard.js";
import { api } from "../api.js";
import {
  type ConversionValues,
  conversionBody,
  conversionErrors,
  conversionServerPath,
  conversionValuesOf,
  noConversion,
} from "../conversion-model.js";
import { CreditToBlock } from "../fx/credit-to.js";
import { fxApi } from "../fx-api.js";
import type { DepositMethod } from "../types.js";
import { useStaff } from "../use-staff.js";

interface CurrencyRow {
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
  /** What the currency credits: itself, or another currency at a locked rate. */
  conversion: ConversionValues;
}

interface MethodFormValues {
  name: string;
  integrationId: string | null;
  enabled: boolean;
  orderTtlMinutes: number | string;
  visibility: "all" | "groups";
  clientGroups: string[];
  currencies: CurrencyRow[];
  /** Label overrides by custom parameter key ("" = the integration's label). */
  labels: Record<string, string>;
  /** Offered in the portal while this method's provider is not answering. */
  fallbackMethodId: string | null;
}

const newCurrency = (): CurrencyRow => ({
  uid: randomId(),
  code: "USD",
  decimals: "",
  min: "10.00",
  max: "5000.00",
  feePercent: "0",
  feeFixed: "0",
  feeMax: "",
  conversion: noConversion(),
});

const emptyValues = (): MethodFormValues => ({
  name: "",
  integrationId: null,
  enabled: true,
  orderTtlMinutes: 30,
  visibility: "all",
  clientGroups: [],
  currencies: [newCurrency()],
  labels: {},
  fallbackMethodId: null,
});

const valuesOf = (m: DepositMethod): MethodFormValues => ({
  name: m.name,
  integrationId: m.integrationId,
  enabled: m.enabled,
  orderTtlMinutes: Math.round(m.orderTtlSeconds / 60),
  visibility: m.visibility,
  clientGroups: m.clientGroups,
  currencies: m.currencies.map((c) => ({
    uid: randomId(),
    code: c.code,
    decimals: isoExponent(c.code) === c.decimals ? "" : c.decimals,
    min: c.min,
    max: c.max,
    feePercent: c.feePercent.replace(/\.?0+$/, "") || "0",
    feeFixed: c.feeFixed,
    feeMax: c.feeMax ?? "",
    conversion: conversionValuesOf(c.conversion),
  })),
  labels: { ...m.fieldLabels },
  fallbackMethodId: m.fallbackMethodId,
});

/** The currency's exponent: given, else ISO 4217; undefined when neither is known. */
function decimalsOf(c: CurrencyRow): number | undefined {
  if (c.decimals !== "" && Number.isInteger(Number(c.decimals))) return Number(c.decimals);
  return isoExponent(c.code.trim().toUpperCase());
}

function toInput(v: MethodFormValues) {
  return {
    name: v.name.trim(),
    integrationId: v.integrationId ?? "",
    enabled: v.enabled,
    orderTtlSeconds: Math.round(Number(v.orderTtlMinutes) * 60),
    fallbackMethodId: v.fallbackMethodId,
    visibility: v.visibility,
    clientGroups: v.visibility === "groups" ? v.clientGroups.map((g) => g.trim()) : [],
    currencies: v.currencies.map((c) => ({
      code: c.code.trim().toUpperCase(),
      ...(c.decimals !== "" ? { decimals: Number(c.decimals) } : {}),
      min: c.min.trim(),
      max: c.max.trim(),
      feePercent: c.feePercent.trim() || "0",
      feeFixed: c.feeFixed.trim() || "0",
      feeMax: c.feeMax.trim() ? c.feeMax.trim() : null,
      conversion: conversionBody(c.conversion),
    })),
    fieldLabels: Object.fromEntries(
      Object.entries(v.labels)
        .map(([k, l]) => [k, l.trim()])
        .filter(([, l]) => l !== ""),
    ),
  };
}

/** Server issue paths → form paths (the lifetime is edited in minutes, labels under `labels.`). */
function serverPathToForm(path: string): string {
  if (path.includes(".conversion")) return conversionServerPath(path);
  return path === "orderTtlSeconds"
    ? "orderTtlMinutes"
    : path.startsWith("fieldLabels.")
      ? `labels.${path.slice("fieldLabels.".length)}`
      : path;
}

function validate(v: MethodFormValues): Record<string, string> {
  const e: Record<string, string> = {};
  if (!v.name.trim()) e.name = t("validation.required");
  if (!v.integrationId) e.integrationId = t("validation.required");
  const ttl = Number(v.orderTtlMinutes);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 10080)
    e.orderTtlMinutes = t("validation.range", { min: 1, max: 10080 });
  if (v.visibility === "groups" && v.clientGroups.length === 0) e.clientGroups = t("methods.groupsRequired");
  if (v.currencies.length === 0) e.currencies = t("methods.currencyRequired");
  const seen = new Set<string>();
  v.currencies.forEach((c, i) => {
    const at = (f: string) => `currencies.${i}.${f}`;
    const code = c.code.trim().toUpperCase();
    if (!/^[A-Z][A-Z0-9]{2,9}$/.test(code)) e[at("code")] = t("methods.codeFormat");
    else if (seen.has(code)) e[at("code")] = t("methods.codeTwice");
    seen.add(code);
    for (const [path, message] of Object.entries(conversionErrors(c.conversion, code)))
      e[at(`conversion.${path}`)] = message;
    const d = decimalsOf(c);
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
  });
  return e;
}

/** "Fee on 100.00: 2.80 → credited 97.20", from the row being edited, in minor units. */
function feeExample(c: CurrencyRow): string | null {
  const d = decimalsOf(c);
  if (d === undefined) return null;
  const min = tryParseAmount(c.min.trim(), d);
  const bps = percentToBps(c.feePercent.trim() || "0");
  const fixed = tryParseAmount(c.feeFixed.trim() || "0", d);
  const cap = c.feeMax.trim() ? tryParseAmount(c.feeMax.trim(), d) : null;
  if (!min.ok || bps === null || !fixed.ok || (cap && !cap.ok)) return null;
  const sample = 10n ** BigInt(d) * 100n > min.minor ? 10n ** BigInt(d) * 100n : min.minor;
  const fee = computeFee(sample, {
    feePercentBps: bps,
    feeFixedMinor: fixed.minor,
    feeMaxMinor: cap?.ok ? cap.minor : null,
  });
  return t("methods.feeExample", {
    amount: formatAmount(sample, d),
    fee: formatAmount(fee, d),
    credit: formatAmount(sample - fee, d),
    code: c.code.trim().toUpperCase(),
  });
}

export function MethodEditPage() {
  const { id } = useParams();
  const isNew = !id;
  const navigate = useNavigate();
  const { can } = useStaff();
  const readOnly = !can("methods:write");
  const [saving, setSaving] = useState(false);

  const method = useQuery(
    () =>
      id ? api.GET("/api/admin/deposit-methods/{id}", { params: { path: { id } } }) : Promise.resolve(null),
    [id],
  );
  const integrations = useQuery(() => api.GET("/api/admin/integrations"), []);
  const allMethods = useQuery(() => api.GET("/api/admin/deposit-methods"), []);
  const fxSources = useQuery(() => (can("settings:read") ? fxApi.listSources() : Promise.resolve([])), []);

  const form = useForm<MethodFormValues>({
    initialValues: emptyValues(),
    validate,
    validateInputOnBlur: true,
  });
  const { formError, setFormError } = useFormError(form.errors);
  const guard = useUnsavedGuard(!readOnly && form.isDirty());

  // One copy of the values for both: valuesOf gives currency rows fresh ids.
  const load = (m: DepositMethod) => {
    const values = valuesOf(m);
    form.setValues(values);
    form.resetDirty(values);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once per method version
  useEffect(() => {
    if (method.data && !form.isDirty()) load(method.data);
  }, [method.data?.id, method.data?.updatedAt]);

  const integration = useMemo(
    () => integrations.data?.items.find((i) => i.id === form.values.integrationId) ?? null,
    [integrations.data, form.values.integrationId],
  );
  const params = useMemo(
    () => [...(integration?.customParams ?? [])].sort((a, b) => a.order - b.order),
    [integration],
  );

  const submit = form.onSubmit(
    async (values) => {
      setSaving(true);
      setFormError(null);
      try {
        const body = toInput(values);
        if (isNew) {
          const created = await api.POST("/api/admin/deposit-methods", { body });
          notifySuccess(t("methods.created", { name: created.name }));
          guard.release();
          navigate(`/methods/${created.id}`, { replace: true });
        } else {
          const updated = await api.PATCH("/api/admin/deposit-methods/{id}", {
            params: { path: { id } },
            body,
          });
          load(updated);
          method.setData(updated);
          notifySuccess(t("methods.saved", { name: updated.name }));
        }
      } catch (err) {
        showSaveError(err, form, setFormError, serverPathToForm);
      } finally {
        setSaving(false);
      }
    },
    () => setFormError(t("validation.fixErrors")),
  );

  const remove = () =>
    modals.openConfirmModal({
      title: t("methods.deleteTitle", { name: method.data?.name ?? "" }),
      children: <Text size="sm">{t("methods.deleteText")}</Text>,
      labels: { confirm: t("methods.delete"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          await api.DELETE("/api/admin/deposit-methods/{id}", { params: { path: { id: id ?? "" } } });
          notifySuccess(t("methods.deleted", { name: method.data?.name ?? "" }));
          guard.release();
          navigate("/methods", { replace: true });
        } catch (err) {
          notifyError(err);
        }
      },
    });

  if (!isNew && method.loading && !method.data) return <PageLoader />;
  if (!isNew && method.error) return <ErrorAlert error={method.error} />;

  return (
    <>
      {guard.prompt}
      <PageHeader
        title={isNew ? t("methods.newTitle") : (method.data?.name ?? "")}
        description={
          isNew ? (
            t("methods.newDescription")
          ) : (
            <StatusBadge status={method.data?.enabled ? "enabled" : "disabled"} />
          )
        }
        actions={
          !isNew && !readOnly ? (
            <Button variant="subtle" color="red" leftSection={<IconTrash size={16} />} onClick={remove}>
              {t("methods.delete")}
            </Button>
          ) : null
        }
      />
      {readOnly ? <ReadOnlyNotice /> : null}
      <form
        onSubmit={submit}
        noValidate
        aria-label={t("methods.formAria")}
        data-read-only={readOnly || undefined}
      >
        <Stack gap="md">
          <Card>
            <Title order={4} mb="sm">
              {t("integrations.general")}
            </Title>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <TextInput
                label={t("field.name")}
                withAsterisk
                readOnly={readOnly}
                {...form.getInputProps("name")}
              />
              <Select
                label={t("field.integration")}
                withAsterisk
                placeholder={t("methods.pickIntegration")}
                data={(integrations.data?.items ?? []).map((i) => ({
                  value: i.id,
                  label: i.enabled ? i.name : `${i.name} (${t("status.disabled")})`,
                }))}
                readOnly={readOnly}
                allowDeselect={false}
                {...form.getInputProps("integrationId")}
              />
              <NumberInput
                label={t("methods.ttl")}
                description={t("methods.ttlHint")}
                min={1}
                max={10080}
                allowDecimal={false}
                suffix={` ${t("methods.minutes")}`}
                readOnly={readOnly}
                {...form.getInputProps("orderTtlMinutes")}
              />
              <Select
                label={t("methods.fallback")}
                description={t("methods.fallbackHint")}
                placeholder={t("methods.noFallback")}
                data={(allMethods.data?.items ?? [])
                  .filter((m) => m.enabled && m.id !== id)
                  .map((m) => ({ value: m.id, label: m.name }))}
                clearable
                readOnly={readOnly}
                data-testid="method-fallback"
                {...form.getInputProps("fallbackMethodId")}
              />
              <Switch
                mt="lg"
                label={t("methods.enabledLabel")}
                disabled={readOnly}
                {...form.getInputProps("enabled", { type: "checkbox" })}
              />
            </SimpleGrid>
          </Card>

          <Card>
            <Title order={4}>{t("methods.currencies")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("methods.currenciesHint")}
            </Text>
            <Stack gap="sm">
              {form.values.currencies.map((c, i) => {
                const iso = isoExponent(c.code.trim().toUpperCase());
                const example = feeExample(c);
                return (
                  <Paper withBorder p="sm" key={c.uid} data-testid={`currency-${i}`}>
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
                    <CreditToBlock
                      form={form}
                      base={`currencies.${i}.conversion`}
                      value={c.conversion}
                      paymentCurrency={c.code}
                      sources={fxSources.data ?? []}
                      groups={form.values.clientGroups}
                      readOnly={readOnly}
                    />
                    <Group justify="space-between" mt="xs">
                      <Text size="xs" c="dimmed">
                        {example ?? ""}
                      </Text>
                      {readOnly || form.values.currencies.length === 1 ? null : (
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          onClick={() => form.removeListItem("currencies", i)}
                          aria-label={t("methods.removeCurrency", { code: c.code })}
                        >
                          <IconTrash size={16} />
                        </ActionIcon>
                      )}
                    </Group>
                  </Paper>
                );
              })}
              {readOnly ? null : (
                <Group>
                  <Button
                    variant="light"
                    leftSection={<IconPlus size={16} />}
                    onClick={() => form.insertListItem("currencies", { ...newCurrency(), code: "" })}
                  >
                    {t("methods.addCurrency")}
                  </Button>
                </Group>
              )}
            </Stack>
          </Card>

          <Card data-testid="deposit-fields">
            <Title order={4}>{t("methods.depositFields")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("methods.depositFieldsHint")}
            </Text>
            {!integration ? (
              <Text size="sm" c="dimmed">
                {t("methods.pickIntegrationFirst")}
              </Text>
            ) : params.length === 0 ? (
              <Text size="sm" c="dimmed">
                {t("methods.noFields", { name: integration.name })}
              </Text>
            ) : (
              <Table.ScrollContainer minWidth={560}>
                <Table verticalSpacing={6}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>{t("integrations.custom.key")}</Table.Th>
                      <Table.Th>{t("integrations.custom.type")}</Table.Th>
                      <Table.Th>{t("methods.labelForClient")}</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {params.map((p) => (
                      <Table.Tr key={p.key} data-field={p.key}>
                        <Table.Td>
                          <Text ff="monospace" size="sm">
                            {p.key}
                          </Text>
                          {p.required ? (
                            <Badge size="xs" variant="light">
                              {t("integrations.custom.required")}
                            </Badge>
                          ) : null}
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{t(`paramType.${p.type}`)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <TextInput
                            size="sm"
                            placeholder={p.label}
                            aria-label={t("methods.labelAria", { key: p.key })}
                            description={t("methods.defaultLabel", { label: p.label })}
                            readOnly={readOnly}
                            value={form.values.labels[p.key] ?? ""}
                            error={form.errors[`labels.${p.key}`]}
                            onChange={(e) =>
                              form.setFieldValue("labels", {
                                ...form.values.labels,
                                [p.key]: e.currentTarget.value,
                              })
                            }
                          />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </Card>

          <Card data-testid="method-visibility">
            <Title order={4}>{t("methods.visibility")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("methods.visibilityHint")}
            </Text>
            <SegmentedControl
              data={[
                { value: "all", label: t("methods.visibilityAll") },
                { value: "groups", label: t("methods.visibilityGroups") },
              ]}
              disabled={readOnly}
              {...form.getInputProps("visibility")}
            />
            {form.values.visibility === "groups" ? (
              <TagsInput
                mt="sm"
                label={t("methods.groups")}
                description={t("integrations.custom.optionsHint")}
                readOnly={readOnly}
                {...form.getInputProps("clientGroups")}
              />
            ) : null}
          </Card>
        </Stack>

        {readOnly ? null : (
          <SaveBar
            formError={formError}
            cancelTo="/methods"
            saving={saving}
            submitLabel={isNew ? t("methods.create") : t("common.save")}
          />
        )}
      </form>
    </>
  );
}
