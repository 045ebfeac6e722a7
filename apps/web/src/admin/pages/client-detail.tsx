import { Anchor, Button, Card, Grid, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { csvExportUrl } from "../../lib/export-url.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, notifySuccess, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { confirmDisabled, confirmPasswordReset, EditClientModal } from "../client-actions.js";
import { ClientStatusBadge } from "../client-status.js";
import { nationalityText } from "../country-select.js";
import { useStaff } from "../use-staff.js";
import { WithdrawalRequestModal } from "../withdrawal-request-form.js";

const PAGE_SIZE = 20;

export function ClientDetailPage() {
  const { id } = useParams();
  const { can } = useStaff();
  const navigate = useNavigate();
  const [ledgerPage, setLedgerPage] = useState(1);
  const [editing, setEditing] = useState(false);
  const [withdrawing, setWithdrawing] = useState(false);
  const client = useQuery(
    () => api.GET("/api/admin/clients/{id}", { params: { path: { id: id ?? "" } } }),
    [id],
  );
  const ledger = useQuery(
    () =>
      api.GET("/api/admin/clients/{id}/ledger", {
        params: { path: { id: id ?? "" }, query: { limit: PAGE_SIZE, offset: (ledgerPage - 1) * PAGE_SIZE } },
      }),
    [id, ledgerPage],
  );
  const deposits = useQuery(
    () =>
      can("deposits:read")
        ? api.GET("/api/admin/deposits", { params: { query: { clientId: id, limit: 10 } } })
        : Promise.resolve({ items: [], total: 0 }),
    [id],
  );
  const c = client.data;
  if (client.loading && !c) return <PageLoader />;
  if (client.error || !c) return <ErrorAlert error={client.error} />;
  const reload = () => void client.reload();

  return (
    <>
      <PageHeader
        title={c.name}
        description={
          <Anchor component={Link} to="/clients" size="sm">
            ← {t("clients.back")}
          </Anchor>
        }
        actions={
          <Group gap="xs">
            {can("withdrawals:pay") ? (
              <Button variant="default" onClick={() => setWithdrawing(true)}>
                {t("staffWithdraw.action")}
              </Button>
            ) : null}
            {can("clients:write") ? (
              <Button variant="default" onClick={() => setEditing(true)}>
                {t("common.edit")}
              </Button>
            ) : null}
            {can("clients:access") ? (
              <>
                <Button variant="default" onClick={() => confirmPasswordReset(c, reload)}>
                  {t("clients.resetPassword")}
                </Button>
                <Button
                  variant={c.disabled ? "filled" : "light"}
                  color={c.disabled ? undefined : "red"}
                  onClick={() => confirmDisabled(c, !c.disabled, reload)}
                >
                  {c.disabled ? t("clients.enable") : t("clients.disable")}
                </Button>
              </>
            ) : null}
          </Group>
        }
      />
      {editing ? (
        <EditClientModal
          client={c}
          opened
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            notifySuccess(t("clients.saved", { name: saved.name }));
            reload();
          }}
        />
      ) : null}
      {withdrawing ? (
        <WithdrawalRequestModal
          client={c}
          opened
          onClose={() => setWithdrawing(false)}
          onStale={client.reload}
        />
      ) : null}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card>
            <Stack gap="xs" data-testid="client-details">
              <Text size="sm">
                <b>{t("clients.userId")}:</b> <span className="mono">{c.id}</span>
              </Text>
              <Text size="sm">
                <b>{t("field.email")}:</b> {c.email}
              </Text>
              <Text size="sm">
                <b>{t("field.phone")}:</b> {c.phone ?? "—"}
              </Text>
              <Text size="sm">
                <b>{t("field.nationality")}:</b> {nationalityText(c.nationality)} ·{" "}
                <b>{t("field.language")}:</b> {c.language ?? "—"}
              </Text>
              <Text size="sm">
                <b>{t("field.group")}:</b> {c.group ?? "—"}
              </Text>
              <Group gap="xs">
                <Text size="sm" fw={700}>
                  {t("clients.portal")}:
                </Text>
                <ClientStatusBadge client={c} />
              </Group>
              <Text size="xs" c="dimmed">
                {t("field.created")} {dateTime(c.createdAt)}
              </Text>
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Group justify="space-between" mb="xs">
            <Title order={4}>{t("clients.wallets")}</Title>
            {can("withdrawals:read") ? (
              <Anchor
                component={Link}
                to={`/withdrawals?view=all&clientId=${encodeURIComponent(c.id)}`}
                size="sm"
              >
                {t("clients.withdrawals")}
              </Anchor>
            ) : null}
          </Group>
          {c.wallets.length === 0 ? (
            <Text c="dimmed" size="sm">
              {t("clients.noWallets")}
            </Text>
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm" data-testid="client-wallets">
              {c.wallets.map((w) => (
                <Card key={w.id} padding="sm">
                  <Text size="xs" c="dimmed" fw={600}>
                    {w.currency}
                  </Text>
                  <Text size="xl" fw={700} className="num">
                    {money(w.balance, w.currency)}
                  </Text>
                  <Text size="xs" c="dimmed" data-testid={`held-${w.currency}`}>
                    {t("wallets.heldAvailable", {
                      held: money(w.held, w.currency),
                      available: money(w.available, w.currency),
                    })}
                  </Text>
                </Card>
              ))}
            </SimpleGrid>
          )}
        </Grid.Col>
      </Grid>
      <Group justify="space-between" mt="lg" mb="xs">
        <Title order={4}>{t("clients.ledger")}</Title>
        <Button
          component="a"
          href={csvExportUrl("/api/admin/clients/{id}/ledger/export.csv", { path: { id: c.id } })}
          download
          variant="default"
          size="xs"
        >
          {t("clients.exportLedger")}
        </Button>
      </Group>
      <ErrorAlert error={ledger.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="client-ledger"
          rows={ledger.data?.items}
          loading={ledger.loading}
          rowKey={(e) => e.id}
          empty={t("clients.noLedger")}
          paging={{
            page: ledgerPage,
            pageSize: PAGE_SIZE,
            total: ledger.data?.total ?? 0,
            onPageChange: setLedgerPage,
          }}
          columns={[
            {
              key: "at",
              header: t("field.time"),
              render: (e) => <span className="num">{dateTime(e.createdAt)}</span>,
            },
            { key: "kind", header: t("field.kind"), render: (e) => t(`ledgerKind.${e.kind}` as MessageKey) },
            {
              key: "amount",
              header: t("field.amount"),
              align: "right",
              render: (e) => {
                const fx = e.fx;
                return (
                  <Stack gap={0} align="flex-end">
                    <span className="num">{money(e.amount, e.currency)}</span>
                    {fx ? (
                      <Text size="xs" c="dimmed" className="num" data-testid="ledger-fx">
                        {t("fx.ledger.at", {
                          amount: money(fx.paymentAmount, fx.paymentCurrency),
                          rate: fx.rate,
                        })}
                      </Text>
                    ) : null}
                  </Stack>
                );
              },
            },
            {
              key: "deposit",
              header: t("review.deposit"),
              render: (e) =>
                e.depositId ? (
                  <Anchor component={Link} to={`/deposits/${e.depositId}`} size="sm">
                    {t("clients.openDeposit")}
                  </Anchor>
                ) : (
                  "—"
                ),
            },
            { key: "memo", header: t("field.memo"), render: (e) => e.memo ?? "—" },
          ]}
        />
      </Paper>
      {can("deposits:read") ? (
        <>
          <Title order={4} mt="lg" mb="xs">
            {t("clients.recentDeposits")}
          </Title>
          <Paper withBorder p="sm">
            <DataTable
              rows={deposits.data?.items}
              loading={deposits.loading}
              rowKey={(d) => d.id}
              empty={t("deposits.empty")}
              onRowClick={(d) => navigate(`/deposits/${d.id}`)}
              columns={[
                { key: "at", header: t("field.created"), render: (d) => dateTime(d.createdAt) },
                {
                  key: "orderNo",
                  header: t("field.orderNo"),
                  render: (d) => <span className="mono">{d.orderNo}</span>,
                },
                { key: "method", header: t("field.method"), render: (d) => d.methodName ?? "—" },
                {
                  key: "amount",
                  header: t("field.amount"),
                  align: "right",
                  render: (d) => <span className="num">{money(d.amount, d.currency)}</span>,
                },
                {
                  key: "status",
                  header: t("field.status"),
                  render: (d) => <StatusBadge status={d.status} />,
                },
              ]}
            />
          </Paper>
        </>
      ) : null}
    </>
  );
}
