import { Anchor, Badge, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, StatusBadge } from "../../ui/feedback.js";
import { IconPlus } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import type { WebhookEndpoint } from "../types.js";
import { useStaff } from "../use-staff.js";
import { EndpointFormModal, type EndpointFormTarget } from "../webhooks/endpoint-form-modal.js";
import { showWebhookSecret } from "../webhooks/show-secret.js";
import { successRateText } from "../webhooks/webhook-model.js";
import { webhooksApi } from "../webhooks-api.js";

/** "All events", or the types an endpoint subscribes to. */
export const eventsText = (e: Pick<WebhookEndpoint, "eventTypes">) =>
  e.eventTypes.includes("*") ? t("webhooks.allEvents") : e.eventTypes.join(", ");

/** Enabled, or disabled with why (by hand, 410 Gone, 5 days of failures). */
export function EndpointState({ e }: { e: WebhookEndpoint }) {
  if (e.enabled)
    return e.failingSince !== null ? (
      <StatusBadge status="review">{t("webhooks.state.failing")}</StatusBadge>
    ) : (
      <StatusBadge status="enabled" />
    );
  return (
    <StatusBadge status="disabled">
      {t("status.disabled")}
      {e.disabledReason ? ` · ${t(`webhooks.disabledReason.${e.disabledReason}`)}` : ""}
    </StatusBadge>
  );
}

/** The tenant's webhook endpoints with their health: success rate, backlog, next retry. */
export function WebhooksPage() {
  const { can } = useStaff();
  const navigate = useNavigate();
  const q = useQuery(() => webhooksApi.list(), []);
  const [editing, setEditing] = useState<EndpointFormTarget | null>(null);

  return (
    <>
      <PageHeader
        title={t("webhooks.title")}
        description={t("webhooks.description")}
        actions={
          can("settings:write") ? (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({})}>
              {t("webhooks.add")}
            </Button>
          ) : null
        }
      />
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="webhooks-table"
          rows={q.data}
          loading={q.loading}
          rowKey={(e) => e.id}
          empty={t("webhooks.empty")}
          minWidth={900}
          columns={[
            {
              key: "url",
              header: t("webhooks.endpoint"),
              sortValue: (e) => e.url,
              render: (e) => (
                <Stack gap={2}>
                  <Anchor
                    component={Link}
                    to={`/webhooks/${e.id}`}
                    className="mono"
                    style={{ wordBreak: "break-all" }}
                  >
                    {e.url}
                  </Anchor>
                  {e.description ? (
                    <Text size="xs" c="dimmed">
                      {e.description}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: "events",
              header: t("webhooks.events"),
              render: (e) => <Text size="sm">{eventsText(e)}</Text>,
            },
            { key: "state", header: t("webhooks.state.title"), render: (e) => <EndpointState e={e} /> },
            {
              key: "rate",
              header: t("webhooks.successRate"),
              align: "right",
              sortValue: (e) => e.stats.successRate24h ?? -1,
              render: (e) => (
                <Stack gap={0} align="flex-end">
                  <span className="num" data-testid="webhook-success-rate">
                    {successRateText(e.stats.successRate24h) ?? "—"}
                  </span>
                  <Text size="xs" c="dimmed">
                    {t("webhooks.attempts24h", { n: e.stats.attempts24h })}
                  </Text>
                </Stack>
              ),
            },
            {
              key: "backlog",
              header: t("webhooks.backlog"),
              render: (e) => (
                <Group gap={4}>
                  {e.stats.pending > 0 ? (
                    <Badge variant="light" color="yellow">
                      {t("webhooks.pendingN", { n: e.stats.pending })}
                    </Badge>
                  ) : null}
                  {e.stats.failed > 0 ? (
                    <Badge variant="light" color="red">
                      {t("webhooks.failedN", { n: e.stats.failed })}
                    </Badge>
                  ) : null}
                  {e.stats.pending + e.stats.failed === 0 ? "—" : null}
                </Group>
              ),
            },
            {
              key: "next",
              header: t("webhooks.nextRetry"),
              render: (e) => (
                <span className="num">{e.stats.nextRetryAt ? dateTime(e.stats.nextRetryAt) : "—"}</span>
              ),
            },
          ]}
        />
      </Paper>
      <EndpointFormModal
        target={editing}
        onClose={() => setEditing(null)}
        onSaved={(endpoint, secret) => {
          setEditing(null);
          void q.reload();
          if (secret) showWebhookSecret(secret);
          navigate(`/webhooks/${endpoint.id}`);
        }}
      />
    </>
  );
}
