import { Alert, Anchor, Badge, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { modals } from "@mantine/modals";
import { useState } from "react";
import { Link } from "react-router";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { useQuery } from "../../lib/use-api-query.js";
import { DataTable } from "../../ui/data-table.js";
import { ErrorAlert, errorMessage, notifyError, notifySuccess } from "../../ui/feedback.js";
import { IconPlus, IconRefresh } from "../../ui/icons.js";
import { PageHeader } from "../../ui/page-header.js";
import { showSourceKey } from "../fx/show-key.js";
import { SourceFormModal, type SourceFormTarget } from "../fx/source-form-modal.js";
import { TestSourceModal } from "../fx/test-source-modal.js";
import { fxApi } from "../fx-api.js";
import type { FxSource } from "../types.js";
import { useStaff } from "../use-staff.js";

/** "300 s", "No expiry". */
const ttlText = (s: FxSource) => (s.ttlSeconds === null ? t("fx.sources.noExpiry") : `${s.ttlSeconds} s`);

/**
 * The tenant's rate sources: manual tables (their pairs on their own page) and external APIs
 * (URL, generated key, timeout, cache TTL), with the Test action and each source's open
 * staleness alert.
 */
export function FxSourcesPage() {
  const { can } = useStaff();
  const mayWrite = can("settings:write");
  const mayRotate = can("settings:rotate");
  const q = useQuery(() => fxApi.listSources(), []);
  const [editing, setEditing] = useState<SourceFormTarget | null>(null);
  const [testing, setTesting] = useState<FxSource | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const saved = (source: FxSource, key: string | null) => {
    setEditing(null);
    void q.reload();
    if (key) showSourceKey(source.name, key);
  };

  const regenerate = (s: FxSource) =>
    modals.openConfirmModal({
      title: t("fx.key.regenerateTitle", { name: s.name }),
      children: <Text size="sm">{t("fx.key.regenerateText")}</Text>,
      labels: { confirm: t("fx.key.regenerate"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          const r = await fxApi.regenerateKey(s.id);
          notifySuccess(t("fx.key.regenerated", { name: s.name }));
          showSourceKey(s.name, r.key);
          void q.reload();
        } catch (err) {
          notifyError(err);
        }
      },
    });

  const remove = (s: FxSource) =>
    modals.openConfirmModal({
      title: t("fx.sources.deleteTitle", { name: s.name }),
      children: <Text size="sm">{t("fx.sources.deleteText")}</Text>,
      labels: { confirm: t("fx.sources.delete"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        setDeleteError(null);
        try {
          await fxApi.deleteSource(s.id);
          notifySuccess(t("fx.sources.deleted", { name: s.name }));
          void q.reload();
        } catch (err) {
          // 409 fx_source_in_use names the methods that use it: kept on the page to act on.
          setDeleteError(errorMessage(err));
        }
      },
    });

  return (
    <>
      <PageHeader
        title={t("fx.sources.title")}
        description={t("fx.sources.description")}
        actions={
          mayWrite ? (
            <Group gap="xs">
              <Button
                variant="light"
                leftSection={<IconPlus size={16} />}
                onClick={() => setEditing({ kind: "manual" })}
              >
                {t("fx.sources.addManual")}
              </Button>
              <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing({ kind: "external" })}>
                {t("fx.sources.addExternal")}
              </Button>
            </Group>
          ) : null
        }
      />
      <ErrorAlert error={q.error} />
      {deleteError ? (
        <Alert
          color="red"
          variant="light"
          mb="md"
          withCloseButton
          onClose={() => setDeleteError(null)}
          data-testid="fx-delete-error"
          role="alert"
        >
          {deleteError}
        </Alert>
      ) : null}
      <Paper withBorder p="sm">
        <DataTable
          testId="fx-sources-table"
          rows={q.data}
          loading={q.loading}
          rowKey={(s) => s.id}
          empty={t("fx.sources.empty")}
          minWidth={900}
          columns={[
            {
              key: "name",
              header: t("fx.sources.name"),
              sortValue: (s) => s.name,
              render: (s) => (
                <Stack gap={2}>
                  {s.kind === "manual" ? (
                    <Anchor component={Link} to={`/fx/${s.id}`} fw={500}>
                      {s.name}
                    </Anchor>
                  ) : (
                    <Text fw={500}>{s.name}</Text>
                  )}
                  {s.alert ? (
                    <Text size="xs" c="red" fw={600} data-testid="fx-source-alert">
                      {t("fx.sources.staleSince", { at: dateTime(s.alert.openedAt) })}
                    </Text>
                  ) : null}
                </Stack>
              ),
            },
            {
              key: "kind",
              header: t("fx.sources.kind"),
              width: 150,
              render: (s) => (
                <Badge variant="light" color={s.kind === "external" ? "indigo" : "gray"} miw="fit-content">
                  {t(`fx.kind.${s.kind}`)}
                </Badge>
              ),
            },
            {
              key: "url",
              header: t("fx.sources.url"),
              render: (s) =>
                s.url ? (
                  <Stack gap={0}>
                    <Text size="sm" className="mono" style={{ wordBreak: "break-all" }}>
                      {s.url}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {t("fx.sources.key")}: <span className="mono">••••{s.keyLast4 ?? ""}</span> ·{" "}
                      {t("fx.sources.timeout")} {s.timeoutMs} ms
                    </Text>
                  </Stack>
                ) : (
                  "—"
                ),
            },
            {
              key: "ttl",
              header: t("fx.sources.ttl"),
              render: (s) => <span className="num">{ttlText(s)}</span>,
            },
            {
              key: "pairs",
              header: t("fx.sources.pairs"),
              align: "right",
              render: (s) => (s.kind === "manual" ? <span className="num">{s.pairs}</span> : "—"),
            },
            {
              key: "actions",
              header: "",
              render: (s) => (
                <Group
                  gap={4}
                  justify="flex-end"
                  wrap="nowrap"
                  aria-label={t("fx.sources.actions", { name: s.name })}
                >
                  <Button size="xs" variant="light" onClick={() => setTesting(s)}>
                    {t("fx.sources.test")}
                  </Button>
                  {s.kind === "manual" ? (
                    <Button size="xs" variant="subtle" component={Link} to={`/fx/${s.id}`}>
                      {t("fx.sources.rates")}
                    </Button>
                  ) : null}
                  {mayWrite ? (
                    <Button size="xs" variant="subtle" onClick={() => setEditing({ source: s })}>
                      {t("fx.sources.edit")}
                    </Button>
                  ) : null}
                  {s.kind === "external" && mayRotate ? (
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      leftSection={<IconRefresh size={14} />}
                      onClick={() => regenerate(s)}
                    >
                      {t("fx.key.regenerate")}
                    </Button>
                  ) : null}
                  {mayWrite ? (
                    <Button size="xs" variant="subtle" color="red" onClick={() => remove(s)}>
                      {t("fx.sources.delete")}
                    </Button>
                  ) : null}
                </Group>
              ),
            },
          ]}
        />
      </Paper>
      <SourceFormModal target={editing} onClose={() => setEditing(null)} onSaved={saved} />
      <TestSourceModal source={testing} onClose={() => setTesting(null)} />
    </>
  );
}
