import { Anchor, Badge, Button, Paper, Stack, Switch, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { groupDigits } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, StatusBadge } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { moved, OrderButtons } from "../order-buttons.js";
import type { WithdrawalMethod } from "../types.js";
import { useStaff } from "../use-staff.js";
import { inputOfMethod } from "../withdrawal-method-model.js";
import { feeText } from "./methods.js";

/** "1 level; 2 levels from 100": the approval bands of a method, in words. */
export function approvalSummary(m: Pick<WithdrawalMethod, "approval">): string {
  return m.approval.bands
    .map((b, i) =>
      i === 0
        ? t("wmethods.levelsN", { n: b.levels })
        : t("wmethods.levelsFrom", { n: b.levels, from: groupDigits(b.from) }),
    )
    .join("; ");
}

/**
 * The tenant's withdrawal methods: how each pays out (by hand or through an integration), its
 * currencies with limits and fees, its approval bands, and on/off (the switch saves the method's
 * settings with `enabled` changed, since the API replaces them whole).
 */
export function WithdrawalMethodsPage() {
  const { can } = useStaff();
  const mayWrite = can("methods:write");
  const q = useQuery(() => api.GET("/api/admin/withdrawal-methods"), []);
  const integrations = useQuery(
    () => (can("settings:read") ? api.GET("/api/admin/integrations") : Promise.resolve({ items: [] })),
    [],
  );
  const [busy, setBusy] = useState(false);
  const integrationName = (id: string | null) =>
    integrations.data?.items.find((i) => i.id === id)?.name ?? id ?? "—";

  const items = q.data?.items;
  const move = async (index: number, delta: -1 | 1) => {
    if (!items) return;
    setBusy(true);
    try {
      const r = await api.POST("/api/admin/withdrawal-methods/reorder", {
        body: {
          ids: moved(
            items.map((m) => m.id),
            index,
            delta,
          ),
        },
      });
      q.setData(r);
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  const setEnabled = async (m: WithdrawalMethod, enabled: boolean) => {
    setBusy(true);
    try {
      await api.PUT("/api/admin/withdrawal-methods/{id}", {
        params: { path: { id: m.id } },
        body: inputOfMethod(m, { enabled }),
      });
      notifySuccess(t(enabled ? "methods.enabledToast" : "methods.disabledToast", { name: m.name }));
      await q.reload();
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title={t("wmethods.title")}
        description={t("wmethods.description")}
        actions={
          mayWrite ? (
            <Button component={Link} to="/withdrawal-methods/new" leftSection={<IconPlus size={16} />}>
              {t("methods.new")}
            </Button>
          ) : null
        }
      />
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="withdrawal-methods-table"
          rows={q.data?.items}
          loading={q.loading}
          rowKey={(m) => m.id}
          empty={t("wmethods.empty")}
          pageSize={100}
          minWidth={860}
          columns={[
            {
              key: "order",
              header: t("methods.order"),
              width: 90,
              render: (m) => {
                const i = items?.indexOf(m) ?? 0;
                return (
                  <OrderButtons
                    name={m.name}
                    index={i}
                    count={items?.length ?? 0}
                    disabled={!can("methods:write") || busy}
                    onMove={(d) => void move(i, d)}
                  />
                );
              },
            },
            {
              key: "name",
              header: t("field.name"),
              render: (m) => (
                <Anchor component={Link} to={`/withdrawal-methods/${m.id}`} fw={500}>
                  {m.name}
                </Anchor>
              ),
            },
            {
              key: "payout",
              header: t("wmethods.payoutMode"),
              render: (m) => (
                <Stack gap={0}>
                  <Badge variant="light" color={m.payoutMode === "manual" ? "gray" : "blue"}>
                    {t(`wmethods.mode.${m.payoutMode}`)}
                  </Badge>
                  {m.payoutMode === "integration" ? (
                    <Text size="xs" c="dimmed">
                      {integrationName(m.integrationId)}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: "currencies",
              header: t("methods.currencies"),
              render: (m) => (
                <Stack gap={2}>
                  {m.currencies.map((c) => (
                    <Text size="sm" key={c.code}>
                      <b>{c.code}</b> {groupDigits(c.min)}–{groupDigits(c.max)} · {feeText(c)}
                    </Text>
                  ))}
                </Stack>
              ),
            },
            {
              key: "approval",
              header: t("wmethods.approval"),
              render: (m) => <Text size="sm">{approvalSummary(m)}</Text>,
            },
            {
              key: "fields",
              header: t("wmethods.fields"),
              render: (m) => (m.fields.length ? m.fields.map((f) => f.label).join(", ") : "—"),
            },
            {
              key: "status",
              header: t("field.status"),
              render: (m) => <StatusBadge status={m.enabled ? "enabled" : "disabled"} />,
            },
            {
              key: "toggle",
              header: t("field.enabled"),
              render: (m) => (
                <Switch
                  checked={m.enabled}
                  disabled={!mayWrite || busy}
                  onChange={(e) => void setEnabled(m, e.currentTarget.checked)}
                  aria-label={t("methods.toggleAria", { name: m.name })}
                />
              ),
            },
          ]}
        />
      </Paper>
    </>
  );
}
