import { Anchor, Badge, Button, Card, Checkbox, Group, List, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useState } from "react";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { safePaymentUrl } from "../../lib/payment-url.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifyError, notifySuccess } from "../../ui/feedback.js";
import { api } from "../api.js";
import type { CertifyRun } from "../types.js";
import { useStaff } from "../use-staff.js";

const at = (id: string) => ({ params: { path: { id } } });
const reportUrl = (integrationId: string, runId: string) =>
  `/api/admin/integrations/${encodeURIComponent(integrationId)}/certify-runs/${encodeURIComponent(runId)}/report.html`;

/** The badge of an integration: certified for its configuration, out of date, or not certified. */
export function CertifiedBadge({ certified, stale }: { certified: boolean; stale: boolean }) {
  const [color, key] = certified
    ? ["teal", "certify.badge.certified"]
    : stale
      ? ["yellow", "certify.badge.stale"]
      : ["gray", "certify.badge.none"];
  return (
    <Badge
      color={color}
      variant="light"
      data-testid="certified-badge"
      data-certified={certified}
      style={{ flexShrink: 0, minWidth: "max-content" }}
    >
      {t(key as MessageKey)}
    </Badge>
  );
}

function resultOf(run: CertifyRun): { color: string; key: MessageKey } {
  if (run.status === "running") return { color: "blue", key: "certify.result.running" };
  if (run.status === "interrupted") return { color: "gray", key: "certify.result.interrupted" };
  if (run.error) return { color: "red", key: "certify.result.error" };
  return run.certified
    ? { color: "teal", key: "certify.result.certified" }
    : { color: "red", key: "certify.result.notCertified" };
}

/**
 * The integration's conformance tests (docs/certify.md#from-the-back-office): its badge, a run
 * (settings:write), what to do on payment pages in manual mode, the latest run's cases and the
 * history, each with its report page.
 */
export function CertifyPanel({ integrationId }: { integrationId: string }) {
  const { can } = useStaff();
  const [manual, setManual] = useState(false);
  const [starting, setStarting] = useState(false);
  const runs = useQuery(
    async () => (await api.GET("/api/admin/integrations/{id}/certify-runs", at(integrationId))).items,
    [integrationId],
  );
  const status = useQuery(async () => {
    const all = (await api.GET("/api/admin/integrations/certification")).items;
    return all.find((s) => s.integrationId === integrationId);
  }, [integrationId]);
  const latest = runs.data?.[0];
  const latestFinished = runs.data?.find((r) => r.status === "finished");
  const detail = useQuery(
    async () =>
      latestFinished
        ? api.GET("/api/admin/integrations/{id}/certify-runs/{runId}", {
            params: { path: { id: integrationId, runId: latestFinished.id } },
          })
        : undefined,
    [integrationId, latestFinished?.id],
  );
  const running = latest?.status === "running";

  // While a run goes on, look again every 1.5 s; once it ends, the badge too.
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void runs.reload(), 1500);
    return () => {
      clearInterval(timer);
      void status.reload();
    };
  }, [running, runs.reload, status.reload]);

  const start = async () => {
    setStarting(true);
    try {
      await api.POST("/api/admin/integrations/{id}/certify-runs", { ...at(integrationId), body: { manual } });
      notifySuccess(t("certify.started"));
      await runs.reload();
    } catch (err) {
      notifyError(err);
    } finally {
      setStarting(false);
    }
  };

  const s = status.data;
  return (
    <Stack gap="md" data-testid="certify-panel">
      <Card>
        <Group justify="space-between" mb="xs">
          <Title order={4}>{t("certify.title")}</Title>
          {s ? <CertifiedBadge certified={s.certified} stale={s.stale} /> : null}
        </Group>
        <Text size="sm" c="dimmed" mb="sm">
          {t("certify.hint")}
        </Text>
        {s?.certified && s.certifiedAt ? (
          <Text size="sm" mb="sm">
            {t("certify.certifiedAt", { at: dateTime(s.certifiedAt) })}
          </Text>
        ) : null}
        {s?.stale ? (
          <Text size="sm" c="yellow.8" mb="sm">
            {t("certify.staleHint")}
          </Text>
        ) : null}
        <ErrorAlert error={runs.error ?? status.error} />
        {can("settings:write") ? (
          <Group>
            <Button onClick={() => void start()} loading={starting || running} data-testid="certify-run">
              {t("certify.run")}
            </Button>
            <Checkbox
              label={t("certify.manual")}
              checked={manual}
              disabled={running}
              onChange={(e) => setManual(e.currentTarget.checked)}
            />
          </Group>
        ) : null}
        {running ? (
          <Stack gap="xs" mt="sm">
            <Text size="sm" data-testid="certify-running">
              {t(latest.manual ? "certify.runningManual" : "certify.running")}
            </Text>
            {latest.prompts.length > 0 ? (
              <>
                <Text size="sm" fw={600}>
                  {t("certify.prompts")}
                </Text>
                <List size="sm" data-testid="certify-prompts">
                  {latest.prompts.map((p) => {
                    const url = safePaymentUrl(p.url);
                    return (
                      <List.Item key={p.orderNo}>
                        {url ? (
                          <Anchor href={url} target="_blank" rel="noopener noreferrer">
                            {p.orderNo}
                          </Anchor>
                        ) : (
                          p.orderNo
                        )}
                        : {p.action}
                      </List.Item>
                    );
                  })}
                </List>
              </>
            ) : null}
          </Stack>
        ) : null}
      </Card>

      {detail.data?.report ? (
        <Card>
          <Group justify="space-between" mb="xs">
            <Title order={5}>{t("certify.cases")}</Title>
            <Anchor href={reportUrl(integrationId, detail.data.id)} target="_blank" size="sm">
              {t("certify.report")}
            </Anchor>
          </Group>
          <Table data-testid="certify-cases" verticalSpacing={4}>
            <Table.Tbody>
              {detail.data.report.cases.map((c) => (
                <Table.Tr key={c.id} data-verdict={c.verdict}>
                  <Table.Td>
                    <Badge
                      variant="light"
                      color={c.verdict === "passed" ? "teal" : c.verdict === "failed" ? "red" : "gray"}
                      style={{ minWidth: "max-content" }}
                    >
                      {t(
                        c.notApplicable
                          ? "certify.verdict.na"
                          : (`certify.verdict.${c.verdict}` as MessageKey),
                      )}
                    </Badge>
                  </Table.Td>
                  <Table.Td className="mono" style={{ whiteSpace: "nowrap" }}>
                    {c.id}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{c.detail}</Text>
                    {c.fix ? (
                      <Text size="sm" c="dimmed">
                        {t("certify.fix", { fix: c.fix })}
                      </Text>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      ) : null}

      <Card>
        <Title order={5} mb="xs">
          {t("certify.history")}
        </Title>
        {runs.data && runs.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t("certify.empty")}
          </Text>
        ) : (
          <Table data-testid="certify-history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("certify.col.started")}</Table.Th>
                <Table.Th>{t("certify.col.result")}</Table.Th>
                <Table.Th>{t("certify.col.counts")}</Table.Th>
                <Table.Th>{t("certify.col.config")}</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(runs.data ?? []).map((r) => {
                const result = resultOf(r);
                return (
                  <Table.Tr key={r.id}>
                    <Table.Td className="num">{dateTime(r.startedAt)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={result.color}>
                        {t(result.key)}
                      </Badge>
                    </Table.Td>
                    <Table.Td className="num">{r.counts ? t("certify.counts", r.counts) : "—"}</Table.Td>
                    <Table.Td>
                      {t(r.currentConfig ? "certify.config.current" : "certify.config.changed")}
                    </Table.Td>
                    <Table.Td>
                      {r.status === "finished" && !r.error ? (
                        <Anchor href={reportUrl(integrationId, r.id)} target="_blank" size="sm">
                          {t("certify.report")}
                        </Anchor>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  );
}
