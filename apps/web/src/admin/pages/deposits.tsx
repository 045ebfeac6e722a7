import { Anchor, Button, Group, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { t } from "../../i18n/index.js";
import type { paths } from "../../lib/api-schema.js";
import { csvExportUrl } from "../../lib/export-url.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, parseSortParam, type SortState, sortParam } from "../../ui/data-table.js";
import { ErrorAlert, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { DEPOSIT_STATUSES, type DepositStatus } from "../types.js";

const PAGE_SIZE = 25;
const NEWEST_FIRST: SortState = { key: "created_at", dir: "desc" };
type DepositSort = NonNullable<
  NonNullable<paths["/api/admin/deposits"]["get"]["parameters"]["query"]>["sort"]
>;

/** yyyy-mm-dd (local) → epoch ms at the start of that day, or of the next day for `to`. */
function dayToMs(day: string, end: boolean): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return new Date(y, m - 1, d + (end ? 1 : 0)).getTime();
}

export function DepositsPage() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filters = {
    status: params.get("status") ?? "",
    orderNo: params.get("orderNo") ?? "",
    clientId: params.get("clientId") ?? "",
    methodId: params.get("methodId") ?? "",
    integrationId: params.get("integrationId") ?? "",
    currency: params.get("currency") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
  const page = Number(params.get("page") ?? "1") || 1;
  const sort = parseSortParam(params.get("sort"), NEWEST_FIRST);
  const [orderNo, setOrderNo] = useState(filters.orderNo);
  const [clientId, setClientId] = useState(filters.clientId);

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!("page" in patch)) next.delete("page");
    setParams(next, { replace: true });
  };

  const methods = useQuery(() => api.GET("/api/admin/deposit-methods"), []);
  const integrations = useQuery(() => api.GET("/api/admin/integrations"), []);
  // The currencies the tenant's methods take, and the one in the URL (e.g. from the dashboard).
  const currencies = [
    ...new Set([
      ...(methods.data?.items ?? []).flatMap((m) => m.currencies.map((c) => c.code)),
      ...(filters.currency ? [filters.currency] : []),
    ]),
  ].sort();
  // The list's filters and order, as the list and its CSV export both take them.
  const listQuery = {
    status: (filters.status || undefined) as DepositStatus | undefined,
    orderNo: filters.orderNo,
    clientId: filters.clientId,
    methodId: filters.methodId,
    integrationId: filters.integrationId,
    currency: filters.currency,
    from: dayToMs(filters.from, false),
    to: dayToMs(filters.to, true),
    sort: sortParam(sort) as DepositSort,
  };
  const q = useQuery(
    () =>
      api.GET("/api/admin/deposits", {
        params: { query: { ...listQuery, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } },
      }),
    [params.toString()],
  );

  return (
    <>
      <PageHeader
        title={t("deposits.title")}
        description={t("deposits.description")}
        actions={
          <Button
            component="a"
            href={csvExportUrl("/api/admin/deposits/export.csv", { query: listQuery })}
            download
            variant="default"
          >
            {t("deposits.export")}
          </Button>
        }
      />
      <Paper withBorder p="sm" mb="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            set({ orderNo: orderNo.trim(), clientId: clientId.trim() });
          }}
        >
          <Group align="flex-end" gap="sm" wrap="wrap">
            <Select
              label={t("field.status")}
              placeholder={t("common.all")}
              clearable
              data={DEPOSIT_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
              value={filters.status || null}
              onChange={(v) => set({ status: v ?? "" })}
              w={160}
            />
            <Select
              label={t("field.method")}
              placeholder={t("common.all")}
              clearable
              data={(methods.data?.items ?? []).map((m) => ({ value: m.id, label: m.name }))}
              value={filters.methodId || null}
              onChange={(v) => set({ methodId: v ?? "" })}
              w={180}
            />
            <Select
              label={t("field.integration")}
              placeholder={t("common.all")}
              clearable
              data={(integrations.data?.items ?? []).map((i) => ({ value: i.id, label: i.name }))}
              value={filters.integrationId || null}
              onChange={(v) => set({ integrationId: v ?? "" })}
              w={180}
            />
            <Select
              label={t("field.currency")}
              placeholder={t("common.all")}
              clearable
              data={currencies}
              value={filters.currency || null}
              onChange={(v) => set({ currency: v ?? "" })}
              w={120}
            />
            <TextInput
              label={t("field.orderNo")}
              value={orderNo}
              onChange={(e) => setOrderNo(e.currentTarget.value)}
              w={170}
            />
            <TextInput
              label={t("deposits.clientId")}
              value={clientId}
              onChange={(e) => setClientId(e.currentTarget.value)}
              w={130}
            />
            <TextInput
              type="date"
              label={t("deposits.from")}
              value={filters.from}
              onChange={(e) => set({ from: e.currentTarget.value })}
              w={150}
            />
            <TextInput
              type="date"
              label={t("deposits.to")}
              value={filters.to}
              onChange={(e) => set({ to: e.currentTarget.value })}
              w={150}
            />
            <Button type="submit" variant="light">
              {t("common.search")}
            </Button>
            <Button
              variant="subtle"
              color="gray"
              onClick={() => {
                setOrderNo("");
                setClientId("");
                setParams(new URLSearchParams(), { replace: true });
              }}
            >
              {t("deposits.clear")}
            </Button>
          </Group>
        </form>
      </Paper>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="deposits-table"
          rows={q.data?.items}
          loading={q.loading}
          rowKey={(d) => d.id}
          empty={t("deposits.empty")}
          minWidth={860}
          onRowClick={(d) => navigate(`/deposits/${d.id}`)}
          paging={{
            page,
            pageSize: PAGE_SIZE,
            total: q.data?.total ?? 0,
            onPageChange: (p) => set({ page: String(p) }),
          }}
          sort={{ value: sort, onChange: (s) => set({ sort: sortParam(s) }) }}
          columns={[
            {
              key: "created",
              header: t("field.created"),
              sortKey: "created_at",
              render: (d) => <span className="num">{dateTime(d.createdAt)}</span>,
            },
            {
              key: "orderNo",
              header: t("field.orderNo"),
              sortKey: "order_no",
              render: (d) => (
                <Anchor
                  component={Link}
                  to={`/deposits/${d.id}`}
                  className="mono"
                  onClick={(e) => e.stopPropagation()}
                >
                  {d.orderNo}
                </Anchor>
              ),
            },
            {
              key: "client",
              header: t("field.client"),
              sortKey: "client_name",
              render: (d) => (
                <Stack gap={0}>
                  <Text size="sm">{d.clientName ?? "—"}</Text>
                  <Text size="xs" c="dimmed" className="mono">
                    {d.clientId}
                  </Text>
                </Stack>
              ),
            },
            {
              key: "method",
              header: t("field.method"),
              sortKey: "method_name",
              render: (d) => d.methodName ?? "—",
            },
            {
              key: "amount",
              header: t("field.amount"),
              align: "right",
              sortKey: "amount",
              render: (d) => <span className="num">{money(d.amount, d.currency)}</span>,
            },
            {
              key: "credit",
              header: t("field.credit"),
              align: "right",
              // What the wallet got: only a succeeded deposit credits anything.
              render: (d) =>
                d.status === "succeeded" ? (
                  <span className="num">{money(d.credit, d.creditCurrency)}</span>
                ) : (
                  "—"
                ),
            },
            {
              key: "status",
              header: t("field.status"),
              sortKey: "status",
              render: (d) => <StatusBadge status={d.status} />,
            },
          ]}
        />
      </Paper>
    </>
  );
}
