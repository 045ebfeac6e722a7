import {
  ActionIcon,
  Alert,
  Button,
  Card,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { groupDigits } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifySuccess, PageLoader, ReadOnlyNotice, StatusBadge } from "../../ui/feedback.js";
import { IconPlus, IconTrash } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { SaveBar, showSaveError } from "../../ui/save-bar.js";
import { useFormError } from "../../ui/use-form-error.js";
import { useUnsavedGuard } from "../../ui/use-unsaved-guard.js";
import { api } from "../api.js";
import { CurrencyRow, newCurrencyRow } from "../method-currency-row.js";
import type { WithdrawalMethod } from "../types.js";
import { useStaff } from "../use-staff.js";
import {
  DECIDING_ROLES,
  type DecidingRole,
  emptyWithdrawalMethod,
  levelCount,
  newBand,
  newField,
  rolesAt,
  validateWithdrawalMethod,
  type WithdrawalMethodFormValues,
  withdrawalMethodInput,
  withdrawalMethodValues,
  withdrawalServerPath,
} from "../withdrawal-method-model.js";

const WITHDRAWAL_EXAMPLE = { key: "wmethods.feeExample", capAtAmount: true } as const;

/**
 * A withdrawal method's settings (docs/withdrawals.md#withdrawal-methods): its currencies with
 * limits and fees (the deposit method's rows), the fields the client fills in, who sees it, how
 * it is paid out, what a failed payout does to the hold, and the approval policy: amount bands
 * with their number of levels, and the roles that decide each level.
 */
export function WithdrawalMethodEditPage() {
  const { id } = useParams();
  const isNew = !id;
  const navigate = useNavigate();
  const { can } = useStaff();
  const readOnly = !can("methods:write");
  const [saving, setSaving] = useState(false);

  const method = useQuery(
    () =>
      id
        ? api.GET("/api/admin/withdrawal-methods/{id}", { params: { path: { id } } })
        : Promise.resolve(null),
    [id],
  );
  const integrations = useQuery(
    () => (can("settings:read") ? api.GET("/api/admin/integrations") : Promise.resolve({ items: [] })),
    [],
  );

  const form = useForm<WithdrawalMethodFormValues>({
    initialValues: emptyWithdrawalMethod(),
    validate: validateWithdrawalMethod,
    validateInputOnBlur: true,
  });
  const { formError, setFormError } = useFormError(form.errors);
  const guard = useUnsavedGuard(!readOnly && form.isDirty());

  const load = (m: WithdrawalMethod) => {
    const values = withdrawalMethodValues(m);
    form.setValues(values);
    form.resetDirty(values);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once per method
  useEffect(() => {
    if (method.data && !form.isDirty()) load(method.data);
  }, [method.data?.id]);

  const submit = form.onSubmit(
    async (values) => {
      setSaving(true);
      setFormError(null);
      try {
        const body = withdrawalMethodInput(values);
        if (isNew) {
          const created = await api.POST("/api/admin/withdrawal-methods", { body });
          notifySuccess(t("methods.created", { name: created.name }));
          guard.release();
          navigate(`/withdrawal-methods/${created.id}`, { replace: true });
        } else {
          const updated = await api.PUT("/api/admin/withdrawal-methods/{id}", {
            params: { path: { id } },
            body,
          });
          load(updated);
          method.setData(updated);
          notifySuccess(t("methods.saved", { name: updated.name }));
        }
      } catch (err) {
        showSaveError(err, form, setFormError, withdrawalServerPath);
      } finally {
        setSaving(false);
      }
    },
    () => setFormError(t("validation.fixErrors")),
  );

  if (!isNew && method.loading && !method.data) return <PageLoader />;
  if (!isNew && method.error) return <ErrorAlert error={method.error} />;

  const v = form.values;
  const levels = levelCount(v);
  const integration = v.payoutMode === "integration";
  const setRoles = (i: number, roles: DecidingRole[]) => {
    const next = Array.from({ length: Math.max(levels, v.rolesByLevel.length) }, (_, j) => rolesAt(v, j));
    next[i] = DECIDING_ROLES.filter((r) => roles.includes(r));
    form.setFieldValue("rolesByLevel", next);
    form.clearFieldError(`rolesByLevel.${i}`);
  };
  const codes = v.currencies.map((c) => c.code.trim().toUpperCase()).filter(Boolean);

  return (
    <>
      {guard.prompt}
      <PageHeader
        title={isNew ? t("wmethods.newTitle") : (method.data?.name ?? "")}
        description={
          isNew ? (
            t("wmethods.newDescription")
          ) : (
            <StatusBadge status={method.data?.enabled ? "enabled" : "disabled"} />
          )
        }
      />
      {readOnly ? <ReadOnlyNotice /> : null}
      <form
        onSubmit={submit}
        noValidate
        aria-label={t("wmethods.formAria")}
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
              {t("wmethods.currenciesHint")}
            </Text>
            <Stack gap="sm">
              {v.currencies.map((c, i) => (
                <CurrencyRow
                  key={c.uid}
                  form={form}
                  index={i}
                  row={c}
                  readOnly={readOnly}
                  example={WITHDRAWAL_EXAMPLE}
                  onRemove={
                    readOnly || v.currencies.length === 1 ? null : () => form.removeListItem("currencies", i)
                  }
                />
              ))}
              {readOnly ? null : (
                <Group>
                  <Button
                    variant="light"
                    leftSection={<IconPlus size={16} />}
                    onClick={() => form.insertListItem("currencies", { ...newCurrencyRow(), code: "" })}
                  >
                    {t("methods.addCurrency")}
                  </Button>
                </Group>
              )}
            </Stack>
          </Card>

          <Card data-testid="withdrawal-fields">
            <Title order={4}>{t("wmethods.fields")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("wmethods.fieldsHint")}
            </Text>
            <Stack gap="xs">
              {v.fields.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("wmethods.noFields")}
                </Text>
              ) : null}
              {v.fields.map((f, i) => (
                <Group key={f.uid} align="flex-start" gap="sm" wrap="wrap" data-testid={`field-${i}`}>
                  <TextInput
                    label={t("wmethods.fieldKey")}
                    description={i === 0 ? t("wmethods.fieldKeyHint") : undefined}
                    withAsterisk
                    readOnly={readOnly}
                    w={200}
                    classNames={{ input: "mono" }}
                    {...form.getInputProps(`fields.${i}.key`)}
                  />
                  <TextInput
                    label={t("wmethods.fieldLabel")}
                    withAsterisk
                    readOnly={readOnly}
                    style={{ flex: 1, minWidth: 200 }}
                    {...form.getInputProps(`fields.${i}.label`)}
                  />
                  <Checkbox
                    mt={i === 0 ? 52 : 32}
                    label={t("integrations.custom.required")}
                    disabled={readOnly}
                    {...form.getInputProps(`fields.${i}.required`, { type: "checkbox" })}
                  />
                  {readOnly ? null : (
                    <ActionIcon
                      mt={i === 0 ? 48 : 28}
                      variant="subtle"
                      color="red"
                      onClick={() => form.removeListItem("fields", i)}
                      aria-label={t("wmethods.removeField", { key: f.key || String(i + 1) })}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  )}
                </Group>
              ))}
              {readOnly ? null : (
                <Group>
                  <Button
                    variant="light"
                    leftSection={<IconPlus size={16} />}
                    onClick={() => form.insertListItem("fields", newField())}
                  >
                    {t("wmethods.addField")}
                  </Button>
                </Group>
              )}
            </Stack>
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
            {v.visibility === "groups" ? (
              <TagsInput
                mt="sm"
                label={t("methods.groups")}
                description={t("integrations.custom.optionsHint")}
                readOnly={readOnly}
                {...form.getInputProps("clientGroups")}
              />
            ) : null}
          </Card>

          <Card data-testid="payout-settings">
            <Title order={4}>{t("wmethods.payout")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("wmethods.payoutHint")}
            </Text>
            <Stack gap="sm">
              <SegmentedControl
                w="fit-content"
                data={[
                  { value: "manual", label: t("wmethods.mode.manual") },
                  { value: "integration", label: t("wmethods.mode.integration") },
                ]}
                disabled={readOnly}
                aria-label={t("wmethods.payoutMode")}
                {...form.getInputProps("payoutMode")}
              />
              {integration ? (
                <>
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
                    maw={420}
                    {...form.getInputProps("integrationId")}
                  />
                  <Switch
                    label={t("wmethods.autoPayout")}
                    description={t("wmethods.autoPayoutHint")}
                    disabled={readOnly}
                    {...form.getInputProps("autoPayout", { type: "checkbox" })}
                  />
                </>
              ) : (
                <Text size="sm">{t("wmethods.manualHint")}</Text>
              )}
              <Select
                label={t("wmethods.failedPayout")}
                description={t("wmethods.failedPayoutHint")}
                data={[
                  { value: "release", label: t("wmethods.failed.release") },
                  { value: "keep", label: t("wmethods.failed.keep") },
                ]}
                allowDeselect={false}
                readOnly={readOnly}
                maw={420}
                {...form.getInputProps("failedPayout")}
              />
            </Stack>
          </Card>

          <Card data-testid="approval-policy">
            <Title order={4}>{t("wmethods.approval")}</Title>
            <Text size="sm" c="dimmed" mb="sm">
              {t("wmethods.approvalHint", { codes: codes.join(", ") || "—" })}
            </Text>
            {form.errors.bands ? (
              <Alert color="red" variant="light" mb="sm" data-testid="approval-error">
                {form.errors.bands}
              </Alert>
            ) : null}
            <Stack gap="xs">
              {v.bands.map((b, i) => (
                <Paper withBorder p="sm" key={b.uid} data-testid={`band-${i}`}>
                  <Group align="flex-start" gap="sm" wrap="wrap">
                    <TextInput
                      label={t("wmethods.bandFrom")}
                      description={i === 0 ? t("wmethods.bandFromHint") : undefined}
                      withAsterisk
                      inputMode="decimal"
                      readOnly={readOnly || i === 0}
                      w={200}
                      {...form.getInputProps(`bands.${i}.from`)}
                    />
                    <NumberInput
                      label={t("wmethods.bandLevels")}
                      withAsterisk
                      min={1}
                      max={10}
                      allowDecimal={false}
                      readOnly={readOnly}
                      w={140}
                      {...form.getInputProps(`bands.${i}.levels`)}
                    />
                    <Text size="sm" c="dimmed" mt={i === 0 ? 52 : 30} style={{ flex: 1, minWidth: 200 }}>
                      {bandText(v.bands, i, codes)}
                    </Text>
                    {readOnly || i === 0 ? null : (
                      <ActionIcon
                        mt={28}
                        variant="subtle"
                        color="red"
                        onClick={() => form.removeListItem("bands", i)}
                        aria-label={t("wmethods.removeBand", { from: b.from || String(i + 1) })}
                      >
                        <IconTrash size={16} />
                      </ActionIcon>
                    )}
                  </Group>
                </Paper>
              ))}
              {readOnly || v.bands.length >= 10 ? null : (
                <Group>
                  <Button
                    variant="light"
                    leftSection={<IconPlus size={16} />}
                    onClick={() => form.insertListItem("bands", newBand("", Math.min(levels + 1, 10)))}
                  >
                    {t("wmethods.addBand")}
                  </Button>
                </Group>
              )}
            </Stack>

            <Title order={5} mt="md">
              {t("wmethods.rolesTitle")}
            </Title>
            <Text size="sm" c="dimmed" mb="xs">
              {t("wmethods.rolesHint")}
            </Text>
            <Stack gap={6}>
              {Array.from({ length: levels }, (_, i) => (
                <Checkbox.Group
                  // biome-ignore lint/suspicious/noArrayIndexKey: a level is its index
                  key={i}
                  label={t("wmethods.levelN", { n: i + 1 })}
                  value={rolesAt(v, i)}
                  onChange={(next) => (readOnly ? undefined : setRoles(i, next as DecidingRole[]))}
                  error={form.errors[`rolesByLevel.${i}`]}
                  data-testid={`level-roles-${i}`}
                >
                  <Group gap="md" mt={4}>
                    {DECIDING_ROLES.map((r) => (
                      <Checkbox key={r} value={r} label={t(`role.${r}`)} disabled={readOnly} />
                    ))}
                  </Group>
                </Checkbox.Group>
              ))}
            </Stack>
          </Card>
        </Stack>

        {readOnly ? null : (
          <SaveBar
            formError={formError}
            cancelTo="/withdrawal-methods"
            saving={saving}
            submitLabel={isNew ? t("methods.create") : t("common.save")}
          />
        )}
      </form>
    </>
  );
}

/** "From 0 up to 100: 1 level", "From 100 on: 2 levels" — what band `i` means, in words. */
function bandText(bands: WithdrawalMethodFormValues["bands"], i: number, codes: string[]): string {
  const b = bands[i];
  if (!b) return "";
  const levels = Number(b.levels);
  const n = Number.isInteger(levels) && levels >= 1 ? levels : "?";
  const from = groupDigits(b.from.trim() || "0");
  const next = bands[i + 1]?.from.trim();
  const unit = codes.length === 1 ? ` ${codes[0]}` : "";
  return next
    ? t("wmethods.bandRange", { from: `${from}${unit}`, to: `${groupDigits(next)}${unit}`, n })
    : t("wmethods.bandOpen", { from: `${from}${unit}`, n });
}
