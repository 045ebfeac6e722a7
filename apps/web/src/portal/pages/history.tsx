import { Anchor, Card, Group, Pagination, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { PortalDeposit } from "../types.js";

/** "100.00 EUR → 105.11 USD" for a deposit credited in another currency; null otherwise. */
function sidesText(d: PortalDeposit): string | null {
  if (!d.quote) return null;
  return t("portal.fx.sides", {
    pay: money(d.quote.paymentAmount, d.quote.paymentCurrency),
    credit: money(d.quote.accountAmount, d.quote.accountCurrency),
  });
}

const PAGE_SIZE = 10;

/** Deposits as a list of rows that stays readable on a phone (no wide table). */
function DepositList({ items }: { items: PortalDeposit[] }) {
  return (
    <Stack gap="xs" data-testid="deposit-history">
      {items.map((d) => (
        <Card key={d.orderNo} padding="sm" component={Link} to={`/deposits/${encodeURIComponent(d.orderNo)}`}>
          <Group justify="space-between" wrap="nowrap" align="flex-start">
            <Stack gap={0} style={{ minWidth: 0 }}>
              <Text fw={600} className="num">
                {money(d.amount, d.currency)}
              </Text>
              <Text size="xs" c="dimmed" lineClamp={1}>
                {/* Isolated, so a Latin method name and an Arabic date never swap pieces. */}
                <bdi>{d.methodName}</bdi> · <bdi>{dateTime(d.createdAt)}</bdi>
              </Text>
              <Text size="xs" c="dimmed" className="mono">
                {d.orderNo}
              </Text>
              {sidesText(d) ? (
                <Text size="xs" c="dimmed" className="num" data-testid="history-fx">
                  {sidesText(d)}
                </Text>
              ) : null}
            </Stack>
            <Stack gap={2} align="flex-end">
              {d.underReview ? (
                <StatusBadge status="review">{t("track.checkingBadge")}</StatusBadge>
              ) : (
                <StatusBadge status={d.status} />
              )}
              {d.status === "succeeded" ? (
                <Text size="xs" c="teal" className="num">
                  {money(d.credit, d.creditCurrency, { plus: true })}
                </Text>
              ) : null}
            </Stack>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}

export function RecentDeposits({ limit }: { limit: number }) {
  const q = useQuery(() => api.GET("/api/portal/deposits", { params: { query: { limit } } }), []);
  if (q.loading && !q.data) return <PageLoader />;
  if (q.error) return <ErrorAlert error={q.error} />;
  if (!q.data?.items.length) return <Text c="dimmed">{t("history.empty")}</Text>;
  return (
    <>
      <DepositList items={q.data.items} />
      {q.data.total > limit ? (
        <Anchor component={Link} to="/history" size="sm">
          {t("history.all")}
        </Anchor>
      ) : null}
    </>
  );
}

export function HistoryPage() {
  const [page, setPage] = useState(1);
  const q = useQuery(
    () =>
      api.GET("/api/portal/deposits", {
        params: { query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE } },
      }),
    [page],
  );
  const pages = Math.max(1, Math.ceil((q.data?.total ?? 0) / PAGE_SIZE));
  return (
    <Stack gap="md">
      <Title order={2}>{t("history.title")}</Title>
      <ErrorAlert error={q.error} />
      {q.loading && !q.data ? <PageLoader /> : null}
      {q.data && q.data.items.length === 0 ? <Text c="dimmed">{t("history.empty")}</Text> : null}
      {q.data?.items.length ? <DepositList items={q.data.items} /> : null}
      {pages > 1 ? (
        <Group justify="center">
          <Pagination total={pages} value={page} onChange={setPage} size="sm" />
        </Group>
      ) : null}
    </Stack>
  );
}
