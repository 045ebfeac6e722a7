import {
  Badge,
  Button,
  Card,
  Group,
  NumberInput,
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
import { modals } from "@mantine/modals";
import { useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { t } from "../../i18n/index.js";
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
import {
  CurrencyRow,
  type CurrencyRowValues,
  currencyBodyOf,
  currencyRowErrors,
  currencyRowOf,
  newCurrencyRow,
} from "../method-currency-row.js";
import type { DepositMethod } from "../types.js";
import { useStaff } from "../use-staff.js";

interface CurrencyRowWithConversion extends CurrencyRowValues {
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
  currencies: CurrencyRowWithConversion[];
  /** Label overrides by custom parameter key ("" = the integration's label). */
  labels: Record<string, string>;
  /** Offered in the portal while this method's provider is not answering. */
  fallbackMethodId: string | null;
}

const newCurrency = (): CurrencyRowWithConversion => ({ ...newCurrencyRow(), conversion: noConversion() });

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
    ...currencyRowOf(c),
    conversion: conversionValuesOf(c.conversion),
  })),
  labels: { ...m.fieldLabels },
  fallbackMethodId: m.fallbackMethodId,
});

function toInput(v: MethodFormValues) {
  return {
    name: v.name.trim(),
    integrationId: v.integrationId ?? "",
    enabled: v.enabled,
    orderTtlSeconds: Math.round(Number(v.orderTtlMinutes) * 60),
    fallbackMethodId: v.fallbackMethodId,
    visibility: v.visibility,
    clientGroups: v.visibility === "groups" ? v.clientGroups.map((g) => g.trim()) : [],
    currencies: v.currencies.map((c) => ({ ...currencyBodyOf(c), conversion: conversionBody(c.conversion) })),
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
    currencyRowErrors(c, i, seen, e);
    for (const [path, message] of Object.entries(conversionErrors(c.conversion, c.code.trim().toUpperCase())))
      e[`currencies.${i}.conversion.${path}`] = message;
  });
  return e;
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
              {form.values.currencies.map((c, i) => (
                <CurrencyRow
                  key={c.uid}
                  form={form}
                  index={i}
                  row={c}
                  readOnly={readOnly}
                  onRemove={
                    readOnly || form.values.currencies.length === 1
                      ? null
                      : () => form.removeListItem("currencies", i)
                  }
                >
                  <CreditToBlock
                    form={form}
                    base={`currencies.${i}.conversion`}
                    value={c.conversion}
                    paymentCurrency={c.code}
                    sources={fxSources.data ?? []}
                    groups={form.values.clientGroups}
                    readOnly={readOnly}
                  />
                </CurrencyRow>
              ))}
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
