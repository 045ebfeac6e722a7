import {
  Card,
  Grid,
  NumberInput,
  ScrollArea,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useEffect, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifySuccess, PageLoader, ReadOnlyNotice, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { SaveBar, showSaveError } from "../../ui/save-bar.js";
import { monoInput } from "../../ui/theme.js";
import { useFormError } from "../../ui/use-form-error.js";
import { useUnsavedGuard } from "../../ui/use-unsaved-guard.js";
import { api } from "../api.js";
import { Api1Preview } from "../integrations/api1-preview.js";
import { BreakerCard } from "../integrations/breaker-card.js";
import { CallbackLog } from "../integrations/callback-log.js";
import { CertifyPanel } from "../integrations/certify-panel.js";
import { CredentialsCard } from "../integrations/credentials-card.js";
import { CustomParamsEditor } from "../integrations/custom-params-editor.js";
import { HealthPanel } from "../integrations/health-panel.js";
import {
  AMOUNT_POLICIES,
  emptyValues,
  type IntegrationFormValues,
  serverPathToForm,
  toInput,
  validateIntegration,
  valuesOf,
} from "../integrations/integration-form.js";
import { ParamTable } from "../integrations/param-table.js";
import { StatusQueryCard } from "../integrations/status-query-card.js";
import type { Integration } from "../types.js";
import { useStaff } from "../use-staff.js";

export function IntegrationEditPage() {
  const { id } = useParams();
  const isNew = !id;
  const navigate = useNavigate();
  const { can } = useStaff();
  const readOnly = !can("settings:write");
  const [saving, setSaving] = useState(false);

  const q = useQuery(
    () =>
      id ? api.GET("/api/admin/integrations/{id}", { params: { path: { id } } }) : Promise.resolve(null),
    [id],
  );
  const integration = q.data ?? null;

  const form = useForm<IntegrationFormValues>({
    initialValues: emptyValues(),
    validate: validateIntegration,
    validateInputOnBlur: true,
  });
  const { formError, setFormError } = useFormError(form.errors);
  const guard = useUnsavedGuard(!readOnly && form.isDirty());

  // One copy of the values for both: valuesOf gives custom parameters fresh row ids.
  const load = (i: Integration) => {
    const values = valuesOf(i);
    form.setValues(values);
    form.resetDirty(values);
  };
  // A newer version that is not this form's own save (a token rotation) keeps unsaved edits.
  // biome-ignore lint/correctness/useExhaustiveDependencies: load the form once per integration version
  useEffect(() => {
    if (integration && !form.isDirty()) load(integration);
  }, [integration?.id, integration?.updatedAt]);

  const submit = form.onSubmit(
    async (values) => {
      setSaving(true);
      setFormError(null);
      try {
        const body = toInput(values);
        if (isNew) {
          const created = await api.POST("/api/admin/integrations", { body });
          notifySuccess(t("integrations.created", { name: created.name }));
          guard.release();
          navigate(`/integrations/${created.id}`, { replace: true });
        } else {
          const updated = await api.PATCH("/api/admin/integrations/{id}", { params: { path: { id } }, body });
          load(updated);
          q.setData(updated);
          notifySuccess(t("integrations.saved", { name: updated.name }));
        }
      } catch (err) {
        showSaveError(err, form, setFormError, serverPathToForm);
      } finally {
        setSaving(false);
      }
    },
    () => setFormError(t("validation.fixErrors")),
  );

  if (!isNew && q.loading && !integration) return <PageLoader />;
  if (!isNew && q.error) return <ErrorAlert error={q.error} />;

  const settings = (
    <form
      onSubmit={submit}
      noValidate
      aria-label={t("integrations.formAria")}
      data-read-only={readOnly || undefined}
    >
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack gap="md">
            <Card>
              <Title order={4} mb="sm">
                {t("integrations.general")}
              </Title>
              <Stack gap="sm">
                <TextInput
                  label={t("field.name")}
                  withAsterisk
                  readOnly={readOnly}
                  {...form.getInputProps("name")}
                />
                <TextInput
                  label={t("integrations.appUrl")}
                  description={t("integrations.appUrlHint")}
                  placeholder="https://psp.example.com"
                  withAsterisk
                  readOnly={readOnly}
                  styles={monoInput}
                  {...form.getInputProps("appUrl")}
                />
                <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
                  <NumberInput
                    label={t("integrations.timeout")}
                    description={t("integrations.timeoutHint")}
                    min={1}
                    max={60}
                    allowDecimal={false}
                    suffix=" s"
                    readOnly={readOnly}
                    {...form.getInputProps("api1TimeoutSeconds")}
                  />
                  <Select
                    label={t("integrations.amountPolicy")}
                    description={t(`amountPolicy.${form.values.amountPolicy}.hint`)}
                    data={AMOUNT_POLICIES.map((p) => ({ value: p, label: t(`amountPolicy.${p}`) }))}
                    allowDeselect={false}
                    readOnly={readOnly}
                    {...form.getInputProps("amountPolicy")}
                  />
                </SimpleGrid>
                <Switch
                  label={t("integrations.enabledLabel")}
                  disabled={readOnly}
                  {...form.getInputProps("enabled", { type: "checkbox" })}
                />
              </Stack>
            </Card>
            <Card>
              <Title order={4}>{t("integrations.params.title")}</Title>
              <Text size="sm" c="dimmed" mb="sm">
                {t("integrations.params.hint")}
              </Text>
              <ScrollArea type="auto">
                <ParamTable form={form} readOnly={readOnly} />
              </ScrollArea>
            </Card>
            <Card>
              <Title order={4}>{t("integrations.custom.title")}</Title>
              <Text size="sm" c="dimmed" mb="sm">
                {t("integrations.custom.hint")}
              </Text>
              <CustomParamsEditor form={form} readOnly={readOnly} />
            </Card>
            <StatusQueryCard form={form} readOnly={readOnly} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack gap="md" style={{ position: "sticky", top: 72 }}>
            {integration ? (
              <CredentialsCard integration={integration} onChanged={() => void q.reload()} />
            ) : null}
            {integration ? <BreakerCard integrationId={integration.id} /> : null}
            <Card>
              <Title order={4} mb={4}>
                {t("integrations.preview.title")}
              </Title>
              <Api1Preview values={form.values} />
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
      {readOnly ? null : (
        <SaveBar
          formError={formError}
          cancelTo="/integrations"
          saving={saving}
          submitLabel={isNew ? t("integrations.create") : t("common.save")}
        />
      )}
    </form>
  );

  return (
    <>
      {guard.prompt}
      <PageHeader
        title={isNew ? t("integrations.newTitle") : (integration?.name ?? "")}
        description={
          isNew ? (
            t("integrations.newDescription")
          ) : (
            <StatusBadge status={integration?.enabled ? "enabled" : "disabled"} />
          )
        }
      />
      {readOnly ? <ReadOnlyNotice /> : null}
      {isNew ? (
        settings
      ) : (
        <Tabs defaultValue="settings">
          <Tabs.List mb="md">
            <Tabs.Tab value="settings">{t("integrations.tab.settings")}</Tabs.Tab>
            {can("deposits:read") ? (
              <Tabs.Tab value="callbacks">{t("integrations.tab.callbacks")}</Tabs.Tab>
            ) : null}
            <Tabs.Tab value="health">{t("health.tab")}</Tabs.Tab>
            <Tabs.Tab value="certify">{t("certify.tab")}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="settings">{settings}</Tabs.Panel>
          <Tabs.Panel value="callbacks">{id ? <CallbackLog integrationId={id} /> : null}</Tabs.Panel>
          <Tabs.Panel value="health">{id ? <HealthPanel integrationId={id} /> : null}</Tabs.Panel>
          <Tabs.Panel value="certify">{id ? <CertifyPanel integrationId={id} /> : null}</Tabs.Panel>
        </Tabs>
      )}
    </>
  );
}
