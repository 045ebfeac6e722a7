import { Sparkline } from "@mantine/charts";
import { Anchor, Badge, Group, Paper, Stack, Text } from "@mantine/core";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { ms, pct } from "../integrations/health-panel.js";
import type { Dashboard } from "../types.js";
import { depositsLink } from "./dashboard-links.js";

type Integration = Dashboard["integrations"][number];

const BREAKER_COLOR: Record<Integration["breaker"]["state"], string> = {
  closed: "teal",
  half_open: "orange",
  open: "red",
};

/** One integration: its breaker, conversion, time to final, API-1 latency, last callback, alerts. */
export function IntegrationTile({ i, range }: { i: Integration; range: { from: number; to: number } }) {
  const own = { integrationId: i.id };
  return (
    <Paper withBorder p="sm" data-testid={`integration-tile-${i.id}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap">
          <Anchor component={Link} to={`/integrations/${i.id}`} fw={600}>
            {i.name}
          </Anchor>
          <Anchor component={Link} to={`/integrations/${i.id}`} underline="never">
            <Badge color={BREAKER_COLOR[i.breaker.state]} variant="light" data-testid="breaker-badge">
              {t("dashboard.breaker", { state: t(`breaker.state.${i.breaker.state}`) })}
            </Badge>
          </Anchor>
        </Group>
        <Group justify="space-between">
          <Text size="sm">{t("dashboard.conversion")}</Text>
          <Anchor component={Link} to={depositsLink(range, { ...own, status: "succeeded" })} size="sm">
            {pct(i.conversion)} ({i.succeeded} / {i.failed})
          </Anchor>
        </Group>
        <Group justify="space-between">
          <Text size="sm">{t("dashboard.timeToFinal")}</Text>
          <Anchor component={Link} to={depositsLink(range, own)} size="sm">
            {ms(i.timeToFinalMs.p50)}
          </Anchor>
        </Group>
        <Text size="sm">{t("dashboard.latency")}</Text>
        {i.latency.length > 1 ? (
          <Anchor component={Link} to={`/integrations/${i.id}`} aria-label={t("dashboard.latency")}>
            <Sparkline
              h={36}
              data={i.latency.map((p) => p.p50)}
              curveType="linear"
              color="teal"
              fillOpacity={0.4}
              strokeWidth={1.5}
            />
          </Anchor>
        ) : (
          <Text size="xs" c="dimmed">
            {i.latency.length === 1 ? ms(i.latency[0]?.p50 ?? null) : t("dashboard.noLatency")}
          </Text>
        )}
        <Group justify="space-between">
          <Text size="sm">{t("dashboard.lastCallback")}</Text>
          <Anchor component={Link} to={`/integrations/${i.id}`} size="sm">
            {dateTime(i.lastCallbackAt)}
          </Anchor>
        </Group>
        <Anchor component={Link} to="/alerts" size="sm" c={i.openAlerts > 0 ? "red" : undefined}>
          {t("dashboard.openAlerts", { count: i.openAlerts })}
        </Anchor>
      </Stack>
    </Paper>
  );
}
