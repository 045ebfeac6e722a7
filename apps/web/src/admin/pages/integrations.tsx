import { Anchor, Button, Paper, Stack, Switch, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { type MouseEvent, useState } from "react";
import { Link, useNavigate } from "react-router";
import { locale, type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, StatusBadge, statusLabel } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { CertifiedBadge } from "../integrations/certify-panel.js";
import type { Integration } from "../types.js";
import { useStaff } from "../use-staff.js";

/** "1 deposit method" / "3 deposit methods", by the current language's plural rule. */
function counted(count: number, one: MessageKey, other: MessageKey): string {
  return t(new Intl.PluralRules(locale()).select(count) === "one" ? one : other, { count });
}

export function IntegrationsPage() {
  const { can } = useStaff();
  const navigate = useNavigate();
  const q = useQuery(() => api.GET("/api/admin/integrations"), []);
  const certification = useQuery(async () => {
    const items = (await api.GET("/api/admin/integrations/certification")).items;
    return new Map(items.map((c) => [c.integrationId, c]));
  }, []);
  const [busy, setBusy] = useState<string | null>(null);

  const setEnabled = async (row: Integration, enabled: boolean) => {
    setBusy(row.id);
    try {
      await api.POST(
        enabled ? "/api/admin/integrations/{id}/enable" : "/api/admin/integrations/{id}/disable",
        { params: { path: { id: row.id } } },
      );
      await q.reload();
      // Said once the list shows it.
      notifySuccess(
        t(enabled ? "integrations.enabledToast" : "integrations.disabledToast", { name: row.name }),
      );
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(null);
    }
  };

  // Enabling only brings methods back, so it needs no question; disabling takes them away from
  // every client and refuses pending orders' callbacks, so it says how many first.
  const confirmDisable = async (row: Integration) => {
    setBusy(row.id);
    let impact: { depositMethods: number; pendingOrders: number };
    try {
      impact = await api.GET("/api/admin/integrations/{id}/impact", { params: { path: { id: row.id } } });
    } catch (err) {
      notifyError(err);
      return;
    } finally {
      setBusy(null);
    }
    modals.openConfirmModal({
      title: t("integrations.disable.title", { name: row.name }),
      children: (
        <Stack gap="xs">
          <Text size="sm" fw={600} data-testid="disable-impact">
            {t("integrations.disable.affects", {
              methods: counted(
                impact.depositMethods,
                "integrations.disable.methodsOne",
                "integrations.disable.methodsOther",
              ),
              orders: counted(
                impact.pendingOrders,
                "integrations.disable.ordersOne",
                "integrations.disable.ordersOther",
              ),
            })}
          </Text>
          <Text size="sm">{t("integrations.disable.text")}</Text>
        </Stack>
      ),
      labels: { confirm: t("integrations.disable.confirm"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: () => void setEnabled(row, false),
    });
  };

  return (
    <>
      <PageHeader
        title={t("integrations.title")}
        description={t("integrations.description")}
        actions={
          can("settings:write") ? (
            <Button component={Link} to="/integrations/new" leftSection={<IconPlus size={16} />}>
              {t("integrations.new")}
            </Button>
          ) : null
        }
      />
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="integrations-table"
          rows={q.data?.items}
          loading={q.loading}
          rowKey={(r) => r.id}
          empty={t("integrations.empty")}
          defaultSort={{ key: "name", dir: "asc" }}
          columns={[
            {
              key: "name",
              header: t("field.name"),
              sortValue: (r) => r.name.toLowerCase(),
              render: (r) => (
                <Anchor component={Link} to={`/integrations/${r.id}`} fw={500}>
                  {r.name}
                </Anchor>
              ),
            },
            {
              key: "status",
              header: t("field.status"),
              sortValue: (r) => (r.enabled ? 0 : 1),
              render: (r) => <StatusBadge status={r.enabled ? "enabled" : "disabled"} />,
            },
            {
              key: "certification",
              header: t("integrations.certification"),
              render: (r) => {
                const c = certification.data?.get(r.id);
                return c ? <CertifiedBadge certified={c.certified} stale={c.stale} /> : null;
              },
            },
            {
              key: "appUrl",
              header: t("integrations.appUrl"),
              sortValue: (r) => r.appUrl,
              render: (r) => (
                <Text size="sm" className="mono">
                  {r.appUrl}
                </Text>
              ),
            },
            {
              key: "params",
              header: t("integrations.customParamsCount"),
              align: "right",
              render: (r) => r.customParams.length,
            },
            {
              key: "updated",
              header: t("field.updated"),
              sortValue: (r) => r.updatedAt,
              render: (r) => <span className="num">{dateTime(r.updatedAt)}</span>,
            },
            {
              key: "toggle",
              header: t("field.enabled"),
              render: (r) => (
                <Switch
                  checked={r.enabled}
                  disabled={!can("settings:write") || busy === r.id}
                  onChange={(e) => void (e.currentTarget.checked ? setEnabled(r, true) : confirmDisable(r))}
                  onClick={(e) => e.stopPropagation()}
                  // A click on the label must not open the row either.
                  wrapperProps={{ onClick: (e: MouseEvent) => e.stopPropagation() }}
                  label={statusLabel(r.enabled ? "enabled" : "disabled")}
                  aria-label={t("integrations.toggleLabel", {
                    name: r.name,
                    state: statusLabel(r.enabled ? "enabled" : "disabled"),
                  })}
                />
              ),
            },
          ]}
          onRowClick={(r) => navigate(`/integrations/${r.id}`)}
        />
      </Paper>
    </>
  );
}
