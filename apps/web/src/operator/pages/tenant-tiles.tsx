import { Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, PageLoader, statusLabel } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { TenantHealth } from "../types.js";

type Window = TenantHealth["last24h"];

function Counts(props: {
  title: string;
  counts: Record<string, number | undefined>;
  label?: (k: string) => string;
}) {
  const entries = Object.entries(props.counts).filter(([, v]) => (v ?? 0) > 0);
  return (
    <Stack gap={4}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {props.title}
      </Text>
      {entries.length === 0 ? (
        <Text size="sm" c="dimmed">
          None
        </Text>
      ) : (
        <Group gap={6}>
          {entries.map(([k, v]) => (
            <Badge key={k} variant="light" color="gray">
              {(props.label ?? ((x: string) => x))(k)}: {v}
            </Badge>
          ))}
        </Group>
      )}
    </Stack>
  );
}

function WindowTile(props: { title: string; w: Window; testId: string }) {
  return (
    <Paper withBorder p="md" data-testid={props.testId}>
      <Stack gap="sm">
        <Title order={5}>{props.title}</Title>
        <Counts title="Deposits created, by status" counts={props.w.deposits} label={statusLabel} />
        <Counts title="Callbacks, by verdict" counts={props.w.callbacks} />
      </Stack>
    </Paper>
  );
}

/** A tenant's tiles: what psphub counts from the tenant's own rows; no client data. */
export function TenantTiles({ tenantId }: { tenantId: string }) {
  const q = useQuery(
    () => api.GET("/api/platform/tenants/{id}/health", { params: { path: { id: tenantId } } }),
    [tenantId],
  );
  if (q.error) return <ErrorAlert error={q.error} />;
  if (!q.data) return <PageLoader />;
  const h = q.data;
  return (
    <Stack gap="md" data-testid="tenant-tiles">
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <Paper withBorder p="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Integrations enabled
          </Text>
          <Text size="xl" fw={700}>
            {h.integrations.filter((i) => i.enabled).length} / {h.integrations.length}
          </Text>
        </Paper>
        <Paper withBorder p="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            Open review items
          </Text>
          <Text size="xl" fw={700} c={h.openReviewItems > 0 ? "orange" : undefined}>
            {h.openReviewItems}
          </Text>
        </Paper>
      </SimpleGrid>
      <WindowTile title="Last hour" w={h.lastHour} testId="tile-hour" />
      <WindowTile title="Last 24 hours" w={h.last24h} testId="tile-day" />
      <Paper withBorder p="md">
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          Integration health
        </Text>
        <Text size="sm" c="dimmed">
          {h.integrationHealth === null
            ? "API-1 latency, breaker state and alerts per integration are not available yet."
            : ""}
        </Text>
      </Paper>
    </Stack>
  );
}
