import "@mantine/charts/styles.css";
import { Anchor, Badge, Group, Paper, SegmentedControl, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useEffect } from "react";
import { Link, useSearchParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, PageLoader } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { CurrencyCard } from "../dashboard/currency-card.js";
import { reviewLink } from "../dashboard/dashboard-links.js";
import { IntegrationTile } from "../dashboard/integration-tile.js";

const RANGES = ["today", "7d", "30d"] as const;
type Range = (typeof RANGES)[number];
const POLL_MS = 15_000;

/** The back office's home: deposits per currency, integration health and the review queue. */
export function DashboardPage() {
  const [params, setParams] = useSearchParams();
  const range: Range = (RANGES as readonly string[]).includes(params.get("range") ?? "")
    ? (params.get("range") as Range)
    : "today";
  const q = useQuery(
    () =>
      api.GET("/api/admin/dashboard", {
        params: { query: { range, tz: new Date().getTimezoneOffset() } },
      }),
    [range],
  );
  // Live: the figures follow the rollup and the queue without a reload.
  const { reload } = q;
  useEffect(() => {
    const timer = setInterval(() => void reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);

  const d = q.data;
  return (
    <>
      <PageHeader title={t("dashboard.title")} description={t("dashboard.description")} />
      <Group mb="md" justify="space-between">
        <SegmentedControl
          aria-label={t("dashboard.range")}
          value={range}
          onChange={(v) => setParams(v === "today" ? {} : { range: v }, { replace: true })}
          data={RANGES.map((r) => ({ value: r, label: t(`dashboard.range.${r}` as MessageKey) }))}
        />
        {d ? (
          <Text size="xs" c="dimmed">
            {dateTime(d.asOf)}
          </Text>
        ) : null}
      </Group>
      <ErrorAlert error={q.error} />
      {!d ? (
        q.error ? null : (
          <PageLoader />
        )
      ) : (
        <Stack gap="lg" data-testid="dashboard">
          <Paper withBorder p="sm">
            <Title order={2} size="h4" mb="xs">
              {t("dashboard.review")}
            </Title>
            <Group gap="sm">
              <Anchor component={Link} to={reviewLink("needs_assistance")} data-testid="needs-assistance">
                <Badge size="lg" color={d.review.needsAssistance > 0 ? "orange" : "gray"} variant="light">
                  {t("reason.needs_assistance")}: {d.review.needsAssistance}
                </Badge>
              </Anchor>
              {Object.entries(d.review.byReason).map(([reason, n]) => (
                <Anchor
                  key={reason}
                  component={Link}
                  to={reviewLink(reason)}
                  data-testid={`review-${reason}`}
                >
                  <Badge size="lg" color={n > 0 ? "orange" : "gray"} variant="outline">
                    {t(`reason.${reason}` as MessageKey)}: {n}
                  </Badge>
                </Anchor>
              ))}
            </Group>
          </Paper>
          {d.currencies.length === 0 ? (
            <Text c="dimmed">{t("dashboard.noDeposits")}</Text>
          ) : (
            d.currencies.map((c) => <CurrencyCard key={c.currency} c={c} range={d} />)
          )}
          <div>
            <Title order={2} size="h4" mb="xs">
              {t("dashboard.integrations")}
            </Title>
            {d.integrations.length === 0 ? (
              <Text c="dimmed">{t("dashboard.noIntegrations")}</Text>
            ) : (
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
                {d.integrations.map((i) => (
                  <IntegrationTile key={i.id} i={i} range={d} />
                ))}
              </SimpleGrid>
            )}
          </div>
        </Stack>
      )}
    </>
  );
}
