import { Anchor, Badge, Button, Group, Paper, Select, Stack, Tabs, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { type AdminWithdrawal, WITHDRAWAL_STATUSES, type WithdrawalFilter } from "../types.js";
import { useStaff } from "../use-staff.js";
import { progressText, riskExplained, riskLabel, wordFor } from "../withdrawal-view-model.js";

const PAGE_SIZE = 25;
/** Levels the tabs offer at least (more when a method's policy asks more). */
const MIN_LEVEL_TABS = 2;

/** A tab of the queue: what it asks the list for. */
function viewQuery(view: string, status: string): Partial<WithdrawalFilter> {
  const level = /^level-(\d+)$/.exec(view);
  if (level) return { level: Number(level[1]) };
  switch (view) {
    case "approved":
      return { status: "approved", needsAssistance: "false" };
    case "paying":
      return { status: "paying" };
    case "assistance":
      return { needsAssistance: "true" };
    default:
      return status ? { status } : {};
  }
}

/** The risk flags of a withdrawal as small badges, each explained on hover and to screen readers. */
export function RiskBadges({ flags }: { flags: readonly string[] }) {
  if (flags.length === 0) return null;
  return (
    <Group gap={4} data-testid="risk-flags">
      {flags.map((f) => (
        <Badge key={f} size="sm" color="orange" variant="light" title={riskExplained(f)} data-flag={f}>
          {riskLabel(f)}
        </Badge>
      ))}
    </Group>
  );
}

/** "Needs assistance" with its reason in words. */
export function AssistanceBadge({ reason }: { reason: string | null }) {
  if (!reason) return null;
  return (
    <Badge
      size="sm"
      color="red"
      variant="filled"
      title={wordFor("wassist.", reason)}
      data-testid="needs-assistance"
    >
      {t("withdrawals.needsAssistance")}
    </Badge>
  );
}

/**
 * The withdrawal queue: tabs for what waits on whom (each approval level, approved and to be
 * paid, being paid, needing assistance, all), filters by status, method, currency and client,
 * newest first, a page at a time (the API pages by cursor).
 */
export function WithdrawalsPage() {
  const navigate = useNavigate();
  const { can } = useStaff();
  const [params, setParams] = useSearchParams();
  const view = params.get("view") ?? "level-1";
  const filters = {
    status: params.get("status") ?? "",
    methodId: params.get("methodId") ?? "",
    currency: params.get("currency") ?? "",
    clientId: params.get("clientId") ?? "",
  };
  const cursor = params.get("cursor") ?? "";
  const [clientId, setClientId] = useState(filters.clientId);
  // The cursors of the pages before this one, for "Previous".
  const [before, setBefore] = useState<string[]>([]);

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!("cursor" in patch)) {
      next.delete("cursor");
      setBefore([]);
    }
    setParams(next, { replace: true });
  };

  const methods = useQuery(
    () => (can("methods:read") ? api.GET("/api/admin/withdrawal-methods") : Promise.resolve({ items: [] })),
    [],
  );
  const maxLevels = Math.max(
    MIN_LEVEL_TABS,
    ...(methods.data?.items ?? []).flatMap((m) => m.approval.bands.map((b) => b.levels)),
  );
  const currencies = [
    ...new Set([
      ...(methods.data?.items ?? []).flatMap((m) => m.currencies.map((c) => c.code)),
      ...(filters.currency ? [filters.currency] : []),
    ]),
  ].sort();

  const q = useQuery(
    () =>
      api.GET("/api/admin/withdrawals", {
        params: {
          query: {
            ...viewQuery(view, filters.status),
            methodId: filters.methodId || undefined,
            currency: filters.currency || undefined,
            clientId: filters.clientId || undefined,
            limit: PAGE_SIZE,
            cursor: cursor || undefined,
          },
        },
      }),
    [params.toString()],
  );

  const tabs = [
    ...Array.from({ length: maxLevels }, (_, i) => ({
      value: `level-${i + 1}`,
      label: t("withdrawals.tab.level", { n: i + 1 }),
    })),
    { value: "approved", label: t("withdrawals.tab.approved") },
    { value: "paying", label: t("withdrawals.tab.paying") },
    { value: "assistance", label: t("withdrawals.tab.assistance") },
    { value: "all", label: t("common.all") },
  ];

  return (
    <>
      <PageHeader title={t("withdrawals.title")} description={t("withdrawals.description")} />
      <Tabs value={view} onChange={(v) => v && set({ view: v, status: "" })} mb="sm" keepMounted={false}>
        <Tabs.List>
          {tabs.map((tab) => (
            <Tabs.Tab key={tab.value} value={tab.value}>
              {tab.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Paper withBorder p="sm" mb="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            set({ clientId: clientId.trim() });
          }}
        >
          <Group align="flex-end" gap="sm" wrap="wrap">
            {view === "all" ? (
              <Select
                label={t("field.status")}
                placeholder={t("common.all")}
                clearable
                data={WITHDRAWAL_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
                value={filters.status || null}
                onChange={(v) => set({ status: v ?? "" })}
                w={160}
              />
            ) : null}
            <Select
              label={t("field.method")}
              placeholder={t("common.all")}
              clearable
              data={(methods.data?.items ?? []).map((m) => ({ value: m.id, label: m.name }))}
              value={filters.methodId || null}
              onChange={(v) => set({ methodId: v ?? "" })}
              w={200}
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
              label={t("deposits.clientId")}
              value={clientId}
              onChange={(e) => setClientId(e.currentTarget.value)}
              w={150}
            />
            <Button type="submit" variant="light">
              {t("common.search")}
            </Button>
            <Button
              variant="subtle"
              color="gray"
              onClick={() => {
                setClientId("");
                setBefore([]);
                setParams(view === "level-1" ? new URLSearchParams() : new URLSearchParams({ view }), {
                  replace: true,
                });
              }}
            >
              {t("deposits.clear")}
            </Button>
          </Group>
        </form>
      </Paper>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable<AdminWithdrawal>
          testId="withdrawals-table"
          rows={q.data?.items}
          loading={q.loading}
          rowKey={(w) => w.id}
          empty={t("withdrawals.empty")}
          pageSize={PAGE_SIZE}
          minWidth={980}
          onRowClick={(w) => navigate(`/withdrawals/${w.id}`)}
          columns={[
            {
              key: "created",
              header: t("field.created"),
              render: (w) => <span className="num">{dateTime(w.createdAt)}</span>,
            },
            {
              key: "payoutNo",
              header: t("withdrawals.payoutNo"),
              render: (w) => (
                <Anchor component={Link} to={`/withdrawals/${w.id}`} className="mono">
                  {w.payoutNo}
                </Anchor>
              ),
            },
            {
              key: "client",
              header: t("field.client"),
              render: (w) => (
                <Stack gap={0}>
                  <Text size="sm">{w.clientName ?? w.clientId}</Text>
                  <Text size="xs" c="dimmed">
                    {w.clientEmail ?? ""}
                  </Text>
                </Stack>
              ),
            },
            { key: "method", header: t("field.method"), render: (w) => w.methodName ?? "—" },
            {
              key: "amount",
              header: t("field.amount"),
              align: "right",
              render: (w) => (
                <Stack gap={0} align="flex-end">
                  <span className="num">{money(w.amount, w.currency)}</span>
                  <Text size="xs" c="dimmed" className="num">
                    {t("withdrawals.paysOut", { amount: money(w.payoutAmount, w.currency) })}
                  </Text>
                </Stack>
              ),
            },
            {
              key: "levels",
              header: t("withdrawals.levels"),
              align: "center",
              render: (w) => (
                <Text
                  size="sm"
                  className="num"
                  data-testid="level-progress"
                  aria-label={t("withdrawals.levelsAria", { done: w.levelsDone, of: w.levelsRequired })}
                >
                  {progressText(w)}
                </Text>
              ),
            },
            {
              key: "risk",
              header: t("withdrawals.risk"),
              render: (w) => <RiskBadges flags={w.riskFlags} />,
            },
            {
              key: "status",
              header: t("field.status"),
              render: (w) => (
                <Group gap={4}>
                  <StatusBadge status={w.status} />
                  <AssistanceBadge reason={w.needsAssistance} />
                </Group>
              ),
            },
          ]}
        />
        {before.length > 0 || q.data?.nextCursor ? (
          <Group justify="flex-end" mt="sm">
            <Button
              variant="default"
              size="xs"
              disabled={before.length === 0}
              onClick={() => {
                const prev = before.slice(0, -1);
                setBefore(prev);
                set({ cursor: before.at(-1) ?? "" });
              }}
            >
              {t("table.previous")}
            </Button>
            <Button
              variant="default"
              size="xs"
              disabled={!q.data?.nextCursor}
              onClick={() => {
                setBefore([...before, cursor]);
                set({ cursor: q.data?.nextCursor ?? "" });
              }}
            >
              {t("table.next")}
            </Button>
          </Group>
        ) : null}
      </Paper>
    </>
  );
}
