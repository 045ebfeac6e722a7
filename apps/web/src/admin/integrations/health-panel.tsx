import { Paper, Stack, Table, Text } from "@mantine/core";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { IntegrationHealth } from "../types.js";

const WINDOWS = ["5m", "1h", "24h"] as const;
type Window = IntegrationHealth["windows"]["5m"];

export const ms = (v: number | null) =>
  v === null
    ? "–"
    : v >= 60_000
      ? `${Math.round(v / 60_000)} min`
      : v >= 1_000
        ? `${v / 1_000} s`
        : `${v} ms`;
export const pct = (v: number | null) => (v === null ? "–" : `${(v * 100).toFixed(1)} %`);

/** Each row: a label and how to show it for one window. */
const ROWS: [MessageKey, (w: Window) => string][] = [
  ["health.api1Calls", (w) => `${w.api1.calls} (${w.api1.failed})`],
  ["health.successRate", (w) => pct(w.api1.successRate)],
  [
    "health.latencyOk",
    (w) => [w.api1.latencyMs.ok.p50, w.api1.latencyMs.ok.p95, w.api1.latencyMs.ok.p99].map(ms).join(" / "),
  ],
  [
    "health.latencyFailed",
    (w) =>
      [w.api1.latencyMs.failed.p50, w.api1.latencyMs.failed.p95, w.api1.latencyMs.failed.p99]
        .map(ms)
        .join(" / "),
  ],
  [
    "health.callbacks",
    (w) =>
      [w.callbacks.accepted, w.callbacks.duplicate, w.callbacks.rejected, w.callbacks.review].join(" / "),
  ],
  ["health.statusAnswers", (w) => String(w.callbacks.statusQueryAnswers)],
  ["health.urls", (w) => String(w.paymentUrlsIssued)],
  ["health.conversion", (w) => pct(w.conversion)],
  ["health.timeToFinal", (w) => [w.timeToFinalMs.p50, w.timeToFinalMs.p95].map(ms).join(" / ")],
  ["health.signatureFailures", (w) => String(w.signatureFailures)],
  ["health.amountMismatches", (w) => String(w.amountMismatches)],
];

/** An integration's figures per window (docs/operations.md#figures) and its open alerts. */
export function HealthPanel({ integrationId }: { integrationId: string }) {
  const q = useQuery(
    () => api.GET("/api/admin/integrations/{id}/health", { params: { path: { id: integrationId } } }),
    [integrationId],
  );
  if (q.error) return <ErrorAlert error={q.error} />;
  const h = q.data;
  if (!h) return <PageLoader />;
  return (
    <Stack gap="sm" data-testid="health-panel">
      {h.openAlerts.map((a) => (
        <Text key={a.id} size="sm">
          <StatusBadge status="open" /> {t(`alerts.kind.${a.kind}` as MessageKey)}:{" "}
          {t(`alerts.meaning.${a.kind}` as MessageKey)}
        </Text>
      ))}
      <Paper withBorder p="sm">
        <Table.ScrollContainer minWidth={600}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("health.figure")}</Table.Th>
                {WINDOWS.map((w) => (
                  <Table.Th key={w} ta="end">
                    {t(`health.window.${w}`)}
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {ROWS.map(([label, show]) => (
                <Table.Tr key={label}>
                  <Table.Td>{t(label)}</Table.Td>
                  {WINDOWS.map((w) => (
                    <Table.Td key={w} ta="end" className="num">
                      {show(h.windows[w])}
                    </Table.Td>
                  ))}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      <Text size="sm">{t("health.pendingBeyondTtl", { count: h.pendingBeyondTtl })}</Text>
      <Text size="xs" c="dimmed">
        {t("health.asOf", { at: dateTime(h.asOf) })}
      </Text>
    </Stack>
  );
}
