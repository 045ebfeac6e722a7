import { Anchor, Button, Group, Paper, SegmentedControl, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { Alert } from "../types.js";
import { useStaff } from "../use-staff.js";

const PAGE_SIZE = 25;

/** The runbook's section of an alert kind (docs/operations.md headings). */
const RUNBOOK: Partial<Record<Alert["kind"], string>> = {
  callback_silence: "docs/operations.md#callback-silence",
  api1_failing: "docs/operations.md#api-1-failing",
  signature_failures: "docs/operations.md#signature-failures-spiking",
  amount_mismatches: "docs/operations.md#amount-mismatches-spiking",
  fx_rate_stale: "docs/operations.md#exchange-rate-stale",
  webhook_failing: "docs/operations.md#webhook-endpoint-failing",
  webhook_disabled: "docs/operations.md#webhook-endpoint-disabled",
};

/** The detectors' alerts, open ones first: what each means, where the runbook is, acknowledge. */
export function AlertsPage() {
  const { can } = useStaff();
  const [status, setStatus] = useState<"open" | "resolved" | "all">("open");
  const [page, setPage] = useState(1);
  const q = useQuery(
    () =>
      api.GET("/api/admin/alerts", {
        params: {
          query: {
            status: status === "all" ? undefined : status,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
          },
        },
      }),
    [status, page],
  );
  const names = useQuery(() => api.GET("/api/admin/health"), []);
  const nameOf = (id: string) => names.data?.integrations.find((i) => i.id === id)?.name ?? id;
  const rows = q.data?.items;
  const kindTitle = (r: Alert) =>
    r.kind === "fx_rate_stale" ? t("fx.alerts.kind") : t(`alerts.kind.${r.kind}` as MessageKey);
  const kindMeaning = (r: Alert) =>
    r.kind === "fx_rate_stale" ? t("fx.alerts.meaning") : t(`alerts.meaning.${r.kind}` as MessageKey);

  const acknowledge = async (a: Alert) => {
    try {
      await api.POST("/api/admin/alerts/{id}/acknowledge", { params: { path: { id: a.id } } });
      notifySuccess(t("alerts.acknowledgedToast"));
      await q.reload();
    } catch (err) {
      notifyError(err);
    }
  };

  return (
    <>
      <PageHeader title={t("alerts.title")} description={t("alerts.description")} />
      <Group mb="md">
        <SegmentedControl
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            setPage(1);
          }}
          data={[
            { value: "open", label: t("status.open") },
            { value: "resolved", label: t("status.resolved") },
            { value: "all", label: t("common.all") },
          ]}
        />
      </Group>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="alerts-table"
          {...serverPaged(q, page, PAGE_SIZE, setPage)}
          rows={rows}
          rowKey={(r) => r.id}
          empty={t("alerts.empty")}
          minWidth={820}
          columns={[
            {
              key: "kind",
              header: t("alerts.kind"),
              render: (r) => (
                <Stack gap={2}>
                  <Group gap={6}>
                    <StatusBadge status={r.status} />
                    <Text fw={500}>{kindTitle(r)}</Text>
                  </Group>
                  <Text size="sm">{kindMeaning(r)}</Text>
                  {RUNBOOK[r.kind] ? (
                    <Text size="xs" c="dimmed" className="mono">
                      {t("alerts.runbook", { section: RUNBOOK[r.kind] ?? "" })}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: "integration",
              header: t("alerts.integration"),
              // A stale-rate alert is about a rate source (its integration id holds the source's id).
              render: (r) =>
                r.subject.kind === "webhook_endpoint" ? (
                  <Stack gap={0}>
                    <Text size="xs" c="dimmed">
                      {t("alerts.webhookEndpoint")}
                    </Text>
                    <Anchor
                      component={Link}
                      to={`/webhooks/${r.subject.id}`}
                      data-testid="alert-webhook-endpoint"
                    >
                      {r.subject.name}
                    </Anchor>
                  </Stack>
                ) : r.subject.kind === "rate_source" ? (
                  <Stack gap={0}>
                    <Text size="xs" c="dimmed">
                      {t("fx.alerts.subject")}
                    </Text>
                    <Anchor component={Link} to="/fx" data-testid="alert-rate-source">
                      {r.subject.name}
                    </Anchor>
                  </Stack>
                ) : (
                  <Anchor component={Link} to={`/integrations/${r.integrationId}`}>
                    {nameOf(r.integrationId)}
                  </Anchor>
                ),
            },
            {
              key: "opened",
              header: t("alerts.opened"),
              sortValue: (r) => r.openedAt,
              render: (r) => (
                <Stack gap={0}>
                  <span className="num">{dateTime(r.openedAt)}</span>
                  {r.resolvedAt !== null ? (
                    <Text size="xs" c="dimmed">
                      {t("alerts.resolvedAt")} {dateTime(r.resolvedAt)}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: "ack",
              header: "",
              render: (r) =>
                r.acknowledgedAt !== null ? (
                  <Text size="xs" c="dimmed">
                    {t("alerts.acknowledgedAt", { at: dateTime(r.acknowledgedAt) })}
                  </Text>
                ) : can("settings:write") ? (
                  <Button size="xs" variant="light" color="teal" onClick={() => acknowledge(r)}>
                    {t("alerts.acknowledge")}
                  </Button>
                ) : null,
            },
          ]}
        />
      </Paper>
    </>
  );
}
