import { Alert, Anchor, Button, Group, Modal, Paper, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { ApiError, issuesToFormErrors } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, PageLoader, ReadOnlyNotice } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { monoInput } from "../../ui/theme.js";
import { fxApi } from "../fx-api.js";
import {
  emptyRateValues,
  type RateFormValues,
  rateErrors,
  rateRequest,
  rateServerPath,
  rateValuesOf,
} from "../fx-source-model.js";
import { bpsToMarkupPercent } from "../markup-model.js";
import type { FxManualRate } from "../types.js";
import { useStaff } from "../use-staff.js";

/** Adds a pair, or edits one (its currencies then fixed: they are the row's address). */
function RateModal(props: {
  sourceId: string;
  target: { row: FxManualRate | null } | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { target } = props;
  const [busy, setBusy] = useState(false);
  const form = useForm<RateFormValues>({
    initialValues: emptyRateValues(),
    validate: rateErrors,
    validateInputOnBlur: true,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset once per opening
  useEffect(() => {
    if (!target) return;
    form.setValues(target.row ? rateValuesOf(target.row) : emptyRateValues());
    form.clearErrors();
  }, [target]);
  const editing = target?.row ?? null;

  const submit = form.onSubmit(async (v) => {
    setBusy(true);
    const { from, to, body } = rateRequest(v);
    try {
      await fxApi.putRate(props.sourceId, from, to, body);
      notifySuccess(t("fx.rates.saved", { from, to }));
      props.onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.issues.length) {
        const errors = issuesToFormErrors(err.issues);
        form.setErrors(Object.fromEntries(Object.entries(errors).map(([k, m]) => [rateServerPath(k), m])));
      } else notifyError(err);
    } finally {
      setBusy(false);
    }
  });

  return (
    <Modal
      opened={target !== null}
      onClose={props.onClose}
      title={
        editing ? t("fx.rates.editTitle", { from: editing.from, to: editing.to }) : t("fx.rates.addTitle")
      }
    >
      <form onSubmit={submit} noValidate data-testid="fx-rate-form">
        <Stack gap="sm">
          <Group grow align="flex-start">
            <TextInput
              label={t("fx.rates.from")}
              withAsterisk
              readOnly={editing !== null}
              data-autofocus
              {...form.getInputProps("from")}
            />
            <TextInput
              label={t("fx.rates.to")}
              withAsterisk
              readOnly={editing !== null}
              {...form.getInputProps("to")}
            />
          </Group>
          <TextInput
            label={t("fx.rates.rate")}
            description={t("fx.rates.rateHint")}
            placeholder="1.0781"
            inputMode="decimal"
            withAsterisk
            styles={monoInput}
            {...form.getInputProps("rate")}
          />
          <TextInput
            label={t("fx.rates.markup")}
            description={t("fx.markup.hint")}
            rightSection="%"
            inputMode="decimal"
            {...form.getInputProps("markupPercent")}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={props.onClose}>
              {t("common.cancel")}
            </Button>
            <Button type="submit" loading={busy}>
              {t("common.save")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A manual table's pairs: rate, markup, and who changed each last and when. */
export function FxSourceRatesPage() {
  const { id = "" } = useParams();
  const { can } = useStaff();
  const mayWrite = can("settings:write");
  const sources = useQuery(() => fxApi.listSources(), []);
  const source = sources.data?.find((s) => s.id === id) ?? null;
  const manual = source?.kind === "manual";
  const rates = useQuery(() => (manual ? fxApi.listRates(id) : Promise.resolve([])), [id, manual]);
  const [editing, setEditing] = useState<{ row: FxManualRate | null } | null>(null);

  const remove = (r: FxManualRate) =>
    modals.openConfirmModal({
      title: t("fx.rates.deleteTitle", { from: r.from, to: r.to }),
      children: <Text size="sm">{t("fx.rates.deleteText")}</Text>,
      labels: { confirm: t("fx.sources.delete"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          await fxApi.deleteRate(id, r.from, r.to);
          notifySuccess(t("fx.rates.deleted", { from: r.from, to: r.to }));
          void rates.reload();
        } catch (err) {
          notifyError(err);
        }
      },
    });

  if (sources.loading && !sources.data) return <PageLoader />;
  if (sources.error) return <ErrorAlert error={sources.error} />;
  const back = (
    <Anchor component={Link} to="/fx" size="sm">
      ← {t("fx.rates.back")}
    </Anchor>
  );
  if (!source) return <PageHeader title={t("notFound.title")} description={back} />;

  return (
    <>
      <PageHeader
        title={t("fx.rates.title", { name: source.name })}
        description={back}
        actions={
          manual && mayWrite ? (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({ row: null })}>
              {t("fx.rates.add")}
            </Button>
          ) : null
        }
      />
      {!mayWrite ? <ReadOnlyNotice /> : null}
      {!manual ? (
        <Alert color="gray" variant="light">
          {t("fx.rates.notManual")}
        </Alert>
      ) : (
        <>
          <Text size="sm" c="dimmed" mb="sm">
            {t("fx.rates.description")}
          </Text>
          <ErrorAlert error={rates.error} />
          <Paper withBorder p="sm">
            <DataTable
              testId="fx-rates-table"
              rows={rates.data}
              loading={rates.loading}
              rowKey={(r) => `${r.from}-${r.to}`}
              empty={t("fx.rates.empty")}
              minWidth={720}
              defaultSort={{ key: "pair", dir: "asc" }}
              columns={[
                {
                  key: "pair",
                  header: `${t("fx.rates.from")} → ${t("fx.rates.to")}`,
                  sortValue: (r) => `${r.from}${r.to}`,
                  render: (r) => <span className="mono">{`${r.from} → ${r.to}`}</span>,
                },
                {
                  key: "rate",
                  header: t("fx.rates.rate"),
                  align: "right",
                  render: (r) => <span className="num">{r.rate}</span>,
                },
                {
                  key: "markup",
                  header: t("fx.rates.markup"),
                  align: "right",
                  render: (r) => <span className="num">{bpsToMarkupPercent(r.markupBps)} %</span>,
                },
                {
                  key: "updated",
                  header: t("fx.rates.updated"),
                  sortValue: (r) => r.updatedAt,
                  render: (r) => (
                    <Text size="sm">
                      {t("fx.rates.updatedBy", { at: dateTime(r.updatedAt), by: r.updatedBy ?? "—" })}
                    </Text>
                  ),
                },
                {
                  key: "actions",
                  header: "",
                  render: (r) =>
                    mayWrite ? (
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        <Button size="xs" variant="subtle" onClick={() => setEditing({ row: r })}>
                          {t("fx.sources.edit")}
                        </Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => remove(r)}>
                          {t("fx.sources.delete")}
                        </Button>
                      </Group>
                    ) : null,
                },
              ]}
            />
          </Paper>
          <RateModal
            sourceId={id}
            target={editing}
            onClose={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              void rates.reload();
            }}
          />
        </>
      )}
    </>
  );
}
