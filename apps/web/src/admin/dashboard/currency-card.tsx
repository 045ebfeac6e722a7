import { BarChart } from "@mantine/charts";
import { Anchor, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link, useNavigate } from "react-router";
import { t } from "../../i18n/index.js";
import { statusLabel } from "../../ui/feedback.js";
import type { Dashboard, DepositStatus } from "../types.js";
import { depositsLink, localDay } from "./dashboard-links.js";

type Currency = Dashboard["currencies"][number];

const STATUSES: DepositStatus[] = ["pending", "processing", "succeeded", "failed", "expired", "cancelled"];
const COLORS: Record<DepositStatus, string> = {
  pending: "yellow",
  processing: "blue",
  succeeded: "teal",
  failed: "red",
  expired: "gray",
  cancelled: "dark",
};
const DAY_MS = 86_400_000;

/** One currency's deposits by status (never summed across currencies) and its per-day chart. */
export function CurrencyCard({ c, range }: { c: Currency; range: { from: number; to: number } }) {
  const navigate = useNavigate();
  const figures = c.byStatus as Record<DepositStatus, { count: number; volume: string }>;
  const data = c.perDay.map((d) => ({ ...d, date: localDay(d.day) }));
  return (
    <Paper withBorder p="sm" data-testid={`currency-${c.currency}`}>
      <Stack gap="sm">
        <Title order={3} size="h4">
          {c.currency}
        </Title>
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 7 }} spacing="xs">
          <Tile
            to={depositsLink(range, { currency: c.currency })}
            label={t("dashboard.total")}
            {...c.total}
            currency={c.currency}
          />
          {STATUSES.map((s) => (
            <Tile
              key={s}
              to={depositsLink(range, { status: s, currency: c.currency })}
              label={statusLabel(s)}
              {...figures[s]}
              currency={c.currency}
              testId={`tile-${c.currency}-${s}`}
            />
          ))}
        </SimpleGrid>
        <Text size="sm" fw={500}>
          {t("dashboard.perDay", { currency: c.currency })}
        </Text>
        <BarChart
          h={220}
          data={data}
          dataKey="date"
          type="stacked"
          withLegend
          series={STATUSES.map((s) => ({ name: s, label: statusLabel(s), color: COLORS[s] }))}
          barChartProps={{
            // A day's bar opens that day's deposits.
            onClick: (state) => {
              const d = data[Number(state?.activeTooltipIndex)];
              if (d) navigate(depositsLink({ from: d.day, to: d.day + DAY_MS }, { currency: c.currency }));
            },
          }}
          data-testid={`chart-${c.currency}`}
        />
      </Stack>
    </Paper>
  );
}

function Tile(p: {
  to: string;
  label: string;
  count: number;
  volume: string;
  currency: string;
  testId?: string;
}) {
  return (
    <Anchor component={Link} to={p.to} underline="never" data-testid={p.testId}>
      <Paper withBorder p="xs" h="100%">
        <Text size="xs" c="dimmed">
          {p.label}
        </Text>
        <Text fw={700} size="lg" data-testid="count">
          {p.count}
        </Text>
        <Text size="xs" data-testid="volume">
          {p.volume} {p.currency}
        </Text>
      </Paper>
    </Anchor>
  );
}
