import { Badge, Button, Card, Group, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { modals } from "@mantine/modals";
import { useState } from "react";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifyError, notifySuccess } from "../../ui/feedback.js";
import { api } from "../api.js";
import { useStaff } from "../use-staff.js";

type Mode = "off" | "dry_run" | "on";
const STATE_COLOR = { closed: "teal", open: "red", half_open: "yellow" } as const;

/**
 * The integration's API-1 circuit breaker (docs/operations.md): its state, why it opened and
 * since when, the recent transitions; closing it by hand and its mode need settings:write.
 */
export function BreakerCard({ integrationId }: { integrationId: string }) {
  const { can } = useStaff();
  const canWrite = can("settings:write");
  const [busy, setBusy] = useState(false);
  const q = useQuery(
    () => api.GET("/api/admin/integrations/{id}/breaker", { params: { path: { id: integrationId } } }),
    [integrationId],
  );
  const b = q.data;

  const setMode = async (mode: Mode) => {
    setBusy(true);
    try {
      await api.PUT("/api/admin/integrations/{id}/breaker/mode", {
        params: { path: { id: integrationId } },
        body: { mode },
      });
      notifySuccess(t("breaker.modeSaved"));
      await q.reload();
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  const close = () =>
    modals.openConfirmModal({
      title: t("breaker.closeTitle"),
      children: <Text size="sm">{t("breaker.closeText")}</Text>,
      labels: { confirm: t("breaker.close"), cancel: t("common.cancel") },
      onConfirm: async () => {
        try {
          await api.POST("/api/admin/integrations/{id}/breaker/close", {
            params: { path: { id: integrationId } },
          });
          notifySuccess(t("breaker.closed"));
          await q.reload();
        } catch (err) {
          notifyError(err);
        }
      },
    });

  return (
    <Card data-testid="breaker-card">
      <Group justify="space-between" mb="xs">
        <Title order={4}>{t("breaker.title")}</Title>
        {b ? (
          <Badge color={STATE_COLOR[b.state]} data-testid="breaker-state">
            {t(`breaker.state.${b.state}` as MessageKey)}
          </Badge>
        ) : null}
      </Group>
      <ErrorAlert error={q.error} />
      {b ? (
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            {t("breaker.rule", {
              failures: b.policy.minFailures,
              rate: Math.round(b.policy.failureRate * 100),
              minutes: Math.round(b.policy.windowMs / 60_000),
            })}
          </Text>
          {b.state !== "closed" ? (
            <Text size="sm" data-testid="breaker-reason">
              {t("breaker.since", { at: b.openedAt ? dateTime(b.openedAt) : "" })} · {b.reason}
            </Text>
          ) : null}
          <Text size="sm">{t("breaker.window", { calls: b.window.calls, failures: b.window.failures })}</Text>
          <SegmentedControl
            value={b.mode}
            disabled={!canWrite || busy}
            onChange={(v) => void setMode(v as Mode)}
            data={(["on", "dry_run", "off"] as const).map((m) => ({
              value: m,
              label: t(`breaker.mode.${m}`),
            }))}
            data-testid="breaker-mode"
          />
          {canWrite && b.state !== "closed" ? (
            <Button color="teal" variant="light" onClick={close} data-testid="breaker-close">
              {t("breaker.close")}
            </Button>
          ) : null}
          {b.events.length > 0 ? (
            <Table fz="xs" verticalSpacing={4}>
              <Table.Tbody>
                {b.events.map((e) => (
                  <Table.Tr key={`${e.at}-${e.kind}-${JSON.stringify(e.detail)}`}>
                    <Table.Td>{dateTime(e.at)}</Table.Td>
                    <Table.Td>
                      {t(`breaker.event.${e.kind}`)}
                      {e.dryRun ? ` (${t("breaker.mode.dry_run")})` : ""}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          ) : null}
        </Stack>
      ) : null}
    </Card>
  );
}
