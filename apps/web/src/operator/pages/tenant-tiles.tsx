import { Badge, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
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
      <Paper withBorder p="md" data-testid="tile-integrations">
        <Stack gap="xs">
          <Title order={5}>Integrations, last hour</Title>
          {h.integrationHealth.length === 0 ? (
            <Text size="sm" c="dimmed">
              No integrations
            </Text>
          ) : (
            <Table striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Integration</Table.Th>
                  <Table.Th>Breaker</Table.Th>
                  <Table.Th ta="right">API-1 calls</Table.Th>
                  <Table.Th ta="right">Success</Table.Th>
                  <Table.Th ta="right">p95</Table.Th>
                  <Table.Th ta="right">Callbacks</Table.Th>
                  <Table.Th ta="right">Signature failures</Table.Th>
                  <Table.Th ta="right">Open alerts</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {h.integrationHealth.map((i) => (
                  <Table.Tr key={i.integrationId}>
                    <Table.Td>
                      {h.integrations.find((x) => x.id === i.integrationId)?.name ?? i.integrationId}
                    </Table.Td>
                    <Table.Td>
                      <Badge
                        variant="light"
                        color={i.breaker === "closed" ? "teal" : i.breaker === "open" ? "red" : "orange"}
                      >
                        {i.breaker.replace("_", "-")}
                      </Badge>
                    </Table.Td>
                    <Table.Td ta="right">{i.api1Calls}</Table.Td>
                    <Table.Td ta="right">
                      {i.api1SuccessRate === null ? "–" : `${Math.round(i.api1SuccessRate * 1000) / 10} %`}
                    </Table.Td>
                    <Table.Td ta="right">{i.api1P95Ms === null ? "–" : `${i.api1P95Ms} ms`}</Table.Td>
                    <Table.Td ta="right">{i.callbacks}</Table.Td>
                    <Table.Td ta="right">{i.signatureFailures}</Table.Td>
                    <Table.Td ta="right" c={i.openAlerts > 0 ? "red" : undefined}>
                      {i.openAlerts}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
      </Paper>
    </Stack>
  );
}
