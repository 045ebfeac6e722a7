import {
  Anchor,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert, notifyError, notifySuccess, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import type { WebhookDelivery, WebhookDeliveryFilter } from "../types.js";
import { useStaff } from "../use-staff.js";
import { DeliveryModal } from "../webhooks/delivery-modal.js";
import { EndpointFormModal, type EndpointFormTarget } from "../webhooks/endpoint-form-modal.js";
import { ReplayModal } from "../webhooks/replay-modal.js";
import { showWebhookSecret } from "../webhooks/show-secret.js";
import { replayPercent, successRateText } from "../webhooks/webhook-model.js";
import { webhooksApi } from "../webhooks-api.js";
import { EndpointState, eventsText } from "./webhooks.js";

const PAGE_SIZE = 25;

function Figure({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} className="num" data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}

/**
 * One endpoint: its figures and actions (test event, rotate, disable or enable with recovery,
 * edit, delete), the delivery log with filters, one delivery's attempts, and replays.
 */
export function WebhookEndpointPage() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const { can } = useStaff();
  const mayWrite = can("settings:write");
  const ep = useQuery(() => webhooksApi.get(id), [id]);
  const types = useQuery(() => webhooksApi.eventTypes(), []);
  const [filter, setFilter] = useState<{ type: string | null; status: string | null; orderNo: string }>({
    type: null,
    status: null,
    orderNo: "",
  });
  const [page, setPage] = useState(1);
  const query: WebhookDeliveryFilter = {
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
    ...(filter.type ? { type: filter.type as WebhookDeliveryFilter["type"] } : {}),
    ...(filter.status ? { status: filter.status as WebhookDeliveryFilter["status"] } : {}),
    ...(filter.orderNo.trim() ? { orderNo: filter.orderNo.trim() } : {}),
  };
  const log = useQuery(() => webhooksApi.deliveries(id, query), [id, JSON.stringify(query)]);
  const replays = useQuery(() => webhooksApi.replays(id), [id]);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<EndpointFormTarget | null>(null);
  const [replaying, setReplaying] = useState(false);
  const running = (replays.data ?? []).some((r) => r.state === "running");

  // While a replay runs or deliveries wait, the figures and the log move: look again every 2 s.
  const moving = running || (ep.data?.stats.pending ?? 0) > 0;
  useEffect(() => {
    if (!moving) return;
    const timer = setInterval(() => {
      void ep.reload();
      void replays.reload();
      void log.reload();
    }, 2000);
    return () => clearInterval(timer);
  }, [moving, ep.reload, replays.reload, log.reload]);

  const reloadAll = async () => {
    await Promise.all([ep.reload(), log.reload(), replays.reload()]);
  };
  const act = async (fn: () => Promise<unknown>, done: string) => {
    try {
      await fn();
      notifySuccess(done);
      await reloadAll();
    } catch (err) {
      notifyError(err);
    }
  };

  if (ep.loading && !ep.data) return <PageLoader />;
  const e = ep.data;
  if (!e) return <ErrorAlert error={ep.error} />;

  const rotate = () => {
    let hours = 24;
    modals.openConfirmModal({
      title: t("webhooks.rotate.title"),
      children: (
        <Stack gap="sm">
          <Text size="sm">{t("webhooks.rotate.text")}</Text>
          <NumberInput
            label={t("webhooks.rotate.overlap")}
            defaultValue={24}
            min={0}
            max={72}
            onChange={(v) => {
              hours = Number(v) || 0;
            }}
          />
        </Stack>
      ),
      labels: { confirm: t("webhooks.rotate.confirm"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          const r = await webhooksApi.rotate(e.id, hours);
          showWebhookSecret(r.secret, r.previousExpiresAt);
          await ep.reload();
        } catch (err) {
          notifyError(err);
        }
      },
    });
  };

  const enable = () => {
    let recover = e.disabledReason !== "manual";
    modals.openConfirmModal({
      title: t("webhooks.enable.title"),
      children: (
        <Checkbox
          label={t("webhooks.enable.recover")}
          defaultChecked={recover}
          onChange={(ev) => {
            recover = ev.currentTarget.checked;
          }}
          data-testid="webhook-recover"
        />
      ),
      labels: { confirm: t("webhooks.enable.confirm"), cancel: t("common.cancel") },
      onConfirm: () => act(() => webhooksApi.enable(e.id, recover), t("webhooks.enable.done")),
    });
  };

  const remove = () =>
    modals.openConfirmModal({
      title: t("webhooks.delete.title"),
      children: <Text size="sm">{t("webhooks.delete.text")}</Text>,
      labels: { confirm: t("webhooks.delete.confirm"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          await webhooksApi.remove(e.id);
          notifySuccess(t("webhooks.delete.done"));
          navigate("/webhooks");
        } catch (err) {
          notifyError(err);
        }
      },
    });

  return (
    <>
      <PageHeader
        title={e.description || t("webhooks.endpoint")}
        description={e.url}
        actions={
          <Group gap="xs">
            <Button variant="default" component={Link} to="/webhooks">
              {t("common.back")}
            </Button>
            {mayWrite && e.enabled ? (
              <Button
                variant="light"
                onClick={() => act(() => webhooksApi.test(e.id), t("webhooks.test.sent"))}
              >
                {t("webhooks.test.send")}
              </Button>
            ) : null}
            {can("settings:rotate") ? (
              <Button variant="light" color="red" onClick={rotate}>
                {t("webhooks.rotate.action")}
              </Button>
            ) : null}
            {mayWrite ? (
              e.enabled ? (
                <Button
                  variant="light"
                  onClick={() => act(() => webhooksApi.disable(e.id), t("webhooks.disable.done"))}
                >
                  {t("webhooks.disable.action")}
                </Button>
              ) : (
                <Button onClick={enable}>{t("webhooks.enable.action")}</Button>
              )
            ) : null}
            {mayWrite ? (
              <Button variant="subtle" onClick={() => setEditing({ endpoint: e })}>
                {t("common.edit")}
              </Button>
            ) : null}
            {mayWrite ? (
              <Button variant="subtle" color="red" onClick={remove}>
                {t("webhooks.delete.action")}
              </Button>
            ) : null}
          </Group>
        }
      />
      <Paper withBorder p="md" mb="md">
        <Group mb="sm" gap="xs">
          <EndpointState e={e} />
          <Text size="sm">{eventsText(e)}</Text>
        </Group>
        <SimpleGrid cols={{ base: 2, sm: 3 }}>
          <Figure
            label={t("webhooks.successRate")}
            value={successRateText(e.stats.successRate24h) ?? "—"}
            testId="webhook-endpoint-rate"
          />
          <Figure label={t("webhooks.attempts24hLabel")} value={String(e.stats.attempts24h)} />
          <Figure label={t("webhooks.pending")} value={String(e.stats.pending)} />
          <Figure label={t("webhooks.failed")} value={String(e.stats.failed)} />
          <Figure
            label={t("webhooks.nextRetry")}
            value={e.stats.nextRetryAt ? dateTime(e.stats.nextRetryAt) : "—"}
          />
          <Figure
            label={t("webhooks.lastSuccess")}
            value={e.lastSuccessAt ? dateTime(e.lastSuccessAt) : "—"}
          />
        </SimpleGrid>
        {e.failingSince ? (
          <Text size="sm" c="red" mt="sm">
            {t("webhooks.failingSince", { at: dateTime(e.failingSince) })}
          </Text>
        ) : null}
        {e.previousSecretExpiresAt ? (
          <Text size="sm" c="dimmed" mt="sm">
            {t("webhooks.rotating", { until: dateTime(e.previousSecretExpiresAt) })}
          </Text>
        ) : null}
      </Paper>

      {(replays.data ?? []).length > 0 ? (
        <Paper withBorder p="md" mb="md">
          <Title order={4} mb="sm">
            {t("webhooks.replay.tasks")}
          </Title>
          <Stack gap="xs">
            {(replays.data ?? []).map((r) => (
              <Stack key={r.id} gap={2} data-testid="webhook-replay-task">
                <Group justify="space-between">
                  <Text size="sm">
                    {t(`webhooks.replay.kind.${r.kind}`)} · {dateTime(r.from)} – {dateTime(r.to)}
                    {r.eventType ? ` · ${r.eventType}` : ""}
                  </Text>
                  <Text size="sm" className="num">
                    {r.done} / {r.total} · {t(`webhooks.replay.state.${r.state}`)}
                  </Text>
                </Group>
                <Progress value={replayPercent(r)} aria-label={t("webhooks.replay.progress")} />
              </Stack>
            ))}
          </Stack>
        </Paper>
      ) : null}

      <Paper withBorder p="sm">
        <Group justify="space-between" mb="sm">
          <Title order={4}>{t("webhooks.log.title")}</Title>
          {mayWrite ? (
            <Button size="xs" variant="light" onClick={() => setReplaying(true)}>
              {t("webhooks.replay.action")}
            </Button>
          ) : null}
        </Group>
        <Group mb="sm" gap="sm" align="flex-end">
          <Select
            label={t("webhooks.log.type")}
            placeholder={t("webhooks.allEvents")}
            data={(types.data ?? []).map((x) => x.type)}
            value={filter.type}
            onChange={(v) => {
              setFilter({ ...filter, type: v });
              setPage(1);
            }}
            clearable
          />
          <Select
            label={t("webhooks.log.status")}
            placeholder={t("common.all")}
            data={["pending", "delivered", "failed"].map((s) => ({
              value: s,
              label: t(`status.${s}` as MessageKey),
            }))}
            value={filter.status}
            onChange={(v) => {
              setFilter({ ...filter, status: v });
              setPage(1);
            }}
            clearable
          />
          <TextInput
            label={t("webhooks.log.orderNo")}
            value={filter.orderNo}
            onChange={(ev) => {
              setFilter({ ...filter, orderNo: ev.currentTarget.value });
              setPage(1);
            }}
          />
        </Group>
        <ErrorAlert error={log.error} />
        <DataTable<WebhookDelivery>
          testId="webhook-deliveries"
          {...serverPaged(log, page, PAGE_SIZE, setPage)}
          rowKey={(d) => d.id}
          empty={t("webhooks.log.empty")}
          minWidth={860}
          onRowClick={(d) => setOpen(d.eventId)}
          columns={[
            {
              key: "type",
              header: t("webhooks.log.type"),
              render: (d) => (
                <Anchor component="button" type="button" onClick={() => setOpen(d.eventId)}>
                  {d.type}
                </Anchor>
              ),
            },
            {
              key: "order",
              header: t("webhooks.log.orderNo"),
              render: (d) =>
                d.orderNo ? <span className="mono">{`${d.orderNo} #${d.sequence}`}</span> : "—",
            },
            {
              key: "status",
              header: t("webhooks.log.status"),
              render: (d) => <StatusBadge status={d.status} />,
            },
            {
              key: "attempts",
              header: t("webhooks.log.attempts"),
              align: "right",
              render: (d) => <span className="num">{d.attempts}</span>,
            },
            {
              key: "last",
              header: t("webhooks.log.lastAnswer"),
              render: (d) => (
                <Text size="sm" className="num">
                  {d.lastHttpStatus ?? (d.lastError ? t("webhooks.log.noAnswer") : "—")}
                </Text>
              ),
            },
            {
              key: "when",
              header: t("webhooks.log.when"),
              render: (d) => (
                <Stack gap={0}>
                  <span className="num">{dateTime(d.createdAt)}</span>
                  {d.nextAttemptAt ? (
                    <Text size="xs" c="dimmed">
                      {t("webhooks.log.next", { at: dateTime(d.nextAttemptAt) })}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
          ]}
        />
      </Paper>

      <DeliveryModal
        endpointId={e.id}
        eventId={open}
        mayReplay={mayWrite}
        onClose={() => setOpen(null)}
        onReplay={(eventId) => act(() => webhooksApi.replayOne(e.id, eventId), t("webhooks.log.replayed"))}
      />
      <ReplayModal
        endpointId={e.id}
        opened={replaying}
        types={(types.data ?? []).map((x) => x.type)}
        onClose={() => setReplaying(false)}
        onStarted={() => {
          setReplaying(false);
          void replays.reload();
        }}
      />
      <EndpointFormModal
        target={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          void ep.reload();
        }}
      />
    </>
  );
}
