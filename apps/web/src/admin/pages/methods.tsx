import { Anchor, Button, Paper, Stack, Switch, Text } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { groupDigits, money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, StatusBadge } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { moved, OrderButtons } from "../order-buttons.js";
import type { DepositMethod, MethodCurrency } from "../types.js";
import { useStaff } from "../use-staff.js";

export function feeText(c: Pick<MethodCurrency, "code" | "feePercent" | "feeFixed" | "feeMax">): string {
  const parts: string[] = [];
  if (c.feePercent !== "0.00" && c.feePercent !== "0") parts.push(`${c.feePercent.replace(/\.?0+$/, "")}%`);
  if (!/^0(\.0+)?$/.test(c.feeFixed)) parts.push(money(c.feeFixed, c.code));
  const base = parts.length ? parts.join(" + ") : t("methods.noFee");
  return c.feeMax ? `${base} ${t("methods.feeCap", { max: money(c.feeMax, c.code) })}` : base;
}

export function MethodsPage() {
  const { can } = useStaff();
  const mayWrite = can("methods:write");
  const q = useQuery(() => api.GET("/api/admin/deposit-methods"), []);
  const [busy, setBusy] = useState(false);
  const items = q.data?.items;

  const move = async (index: number, delta: -1 | 1) => {
    if (!items) return;
    const ids = moved(
      items.map((m) => m.id),
      index,
      delta,
    );
    setBusy(true);
    try {
      const r = await api.POST("/api/admin/deposit-methods/reorder", { body: { ids } });
      q.setData(r);
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  const setEnabled = async (m: DepositMethod, enabled: boolean) => {
    setBusy(true);
    try {
      await api.POST(
        enabled ? "/api/admin/deposit-methods/{id}/enable" : "/api/admin/deposit-methods/{id}/disable",
        { params: { path: { id: m.id } } },
      );
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
        title={t("methods.title")}
        description={t("methods.description")}
        actions={
          mayWrite ? (
            <Button component={Link} to="/methods/new" leftSection={<IconPlus size={16} />}>
              {t("methods.new")}
            </Button>
          ) : null
        }
      />
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="methods-table"
          rows={items}
          loading={q.loading}
          rowKey={(m) => m.id}
          empty={t("methods.empty")}
          pageSize={100}
          minWidth={760}
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
                    disabled={!mayWrite || busy}
                    onMove={(d) => void move(i, d)}
                  />
                );
              },
            },
            {
              key: "name",
              header: t("field.name"),
              render: (m) => (
                <Stack gap={0}>
                  <Anchor component={Link} to={`/methods/${m.id}`} fw={500}>
                    {m.name}
                  </Anchor>
                  <Text size="xs" c="dimmed">
                    {m.integrationName}
                  </Text>
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
              key: "fields",
              header: t("methods.fields"),
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
      {items && items.length > 1 ? (
        <Text size="xs" c="dimmed" mt="xs">
          {t("methods.orderHint")}
        </Text>
      ) : null}
    </>
  );
}
