import { Badge, Button, Code, Group, Modal, Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import { useEffect } from "react";
import { t } from "../../i18n/index.js";
import { dateTimeSeconds } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, StatusBadge } from "../../ui/feedback.js";
import type { WebhookAttempt } from "../types.js";
import { webhooksApi } from "../webhooks-api.js";

const WRAP = { whiteSpace: "pre-wrap", wordBreak: "break-all" } as const;

const headersText = (h: Record<string, string> | null) =>
  h === null
    ? "—"
    : Object.entries(h)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n");

function AttemptCard({ a }: { a: WebhookAttempt }) {
  const ok = a.responseStatus !== null && a.responseStatus >= 200 && a.responseStatus < 300;
  return (
    <Paper withBorder p="sm" data-testid="webhook-attempt">
      <Group justify="space-between" mb="xs">
        <Group gap="xs">
          <Text fw={600}>{t("webhooks.log.attemptN", { n: a.attempt })}</Text>
          <Badge color={ok ? "teal" : "red"} variant="light" data-testid="webhook-attempt-status">
            {a.responseStatus ?? t("webhooks.log.noAnswer")}
          </Badge>
        </Group>
        <Text size="xs" c="dimmed" className="num">
          {dateTimeSeconds(a.createdAt)} · {a.latencyMs} ms
        </Text>
      </Group>
      {a.error ? (
        <Text size="sm" c="red" mb="xs">
          {a.error}
        </Text>
      ) : null}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Stack gap={4}>
          <Text size="xs" fw={600}>
            {t("webhooks.log.requestHeaders")}
          </Text>
          <Code block data-testid="webhook-request-headers" style={WRAP}>
            {headersText(a.requestHeaders)}
          </Code>
        </Stack>
        <Stack gap={4}>
          <Text size="xs" fw={600}>
            {t("webhooks.log.responseHeaders")}
          </Text>
          <Code block style={WRAP}>
            {headersText(a.responseHeaders)}
          </Code>
          <Text size="xs" fw={600}>
            {t("webhooks.log.responseBody")}
          </Text>
          <Code block data-testid="webhook-response-body" style={WRAP}>
            {a.responseBody === null || a.responseBody === "" ? "—" : a.responseBody}
          </Code>
        </Stack>
      </SimpleGrid>
    </Paper>
  );
}

/** One delivery: the exact body sent and every attempt, newest first; Replay sends it again. */
export function DeliveryModal(props: {
  endpointId: string;
  eventId: string | null;
  mayReplay: boolean;
  onClose: () => void;
  onReplay: (eventId: string) => Promise<void>;
}) {
  const { endpointId, eventId } = props;
  const q = useQuery(
    () => (eventId ? webhooksApi.delivery(endpointId, eventId) : Promise.resolve(undefined)),
    [endpointId, eventId],
  );
  const d = q.data;
  // A pending delivery (waiting for a retry, or just replayed) gets its next attempt soon: look
  // again every 2 s, as the endpoint page does, until it is delivered or given up.
  const pending = d?.delivery.status === "pending";
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void q.reload(), 2000);
    return () => clearInterval(timer);
  }, [pending, q.reload]);
  let pretty = d?.body ?? "";
  try {
    pretty = JSON.stringify(JSON.parse(pretty), null, 2);
  } catch {
    // shown as sent
  }
  return (
    <Modal
      opened={eventId !== null}
      onClose={props.onClose}
      title={t("webhooks.log.deliveryTitle")}
      size="xl"
    >
      <ErrorAlert error={q.error} />
      {d ? (
        <Stack gap="sm" data-testid="webhook-delivery">
          <Group justify="space-between">
            <Group gap="xs">
              <Text fw={600}>{d.delivery.type}</Text>
              <StatusBadge status={d.delivery.status} />
              <Text size="sm" c="dimmed" className="mono">
                {d.delivery.eventId}
              </Text>
            </Group>
            {props.mayReplay ? (
              <Button
                size="xs"
                variant="light"
                onClick={async () => {
                  await props.onReplay(d.delivery.eventId);
                  await q.reload();
                }}
              >
                {t("webhooks.log.replay")}
              </Button>
            ) : null}
          </Group>
          <Text size="xs" fw={600}>
            {t("webhooks.log.body")}
          </Text>
          <Code block data-testid="webhook-body" style={WRAP}>
            {pretty}
          </Code>
          {d.attempts.length === 0 ? <Text size="sm">{t("webhooks.log.noAttempts")}</Text> : null}
          {d.attempts.map((a) => (
            <AttemptCard key={a.id} a={a} />
          ))}
        </Stack>
      ) : null}
    </Modal>
  );
}
