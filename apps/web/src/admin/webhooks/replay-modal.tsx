import { Button, Group, Modal, Select, Stack, Switch, TextInput } from "@mantine/core";
import { useEffect, useState } from "react";
import { t } from "../../i18n/index.js";
import { notifyError, notifySuccess } from "../../ui/feedback.js";
import type { WebhookReplayInput } from "../types.js";
import { webhooksApi } from "../webhooks-api.js";
import { localInputOf, msOfLocalInput } from "./webhook-model.js";

/** Replays a time range to one endpoint, in the background (the page shows its progress). */
export function ReplayModal(props: {
  endpointId: string;
  opened: boolean;
  types: string[];
  onClose: () => void;
  onStarted: () => void;
}) {
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [type, setType] = useState<string | null>(null);
  const [onlyFailed, setOnlyFailed] = useState(true);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!props.opened) return;
    const now = Date.now();
    setFrom(localInputOf(now - 24 * 3600_000));
    setTo(localInputOf(now + 60_000));
  }, [props.opened]);
  const fromMs = msOfLocalInput(from);
  const toMs = msOfLocalInput(to);
  const invalid = fromMs === null || toMs === null || fromMs >= toMs;

  const start = async () => {
    if (fromMs === null || toMs === null) return;
    setBusy(true);
    try {
      const r = await webhooksApi.replayRange(props.endpointId, {
        from: fromMs,
        to: toMs,
        ...(type ? { eventType: type as WebhookReplayInput["eventType"] } : {}),
        onlyFailed,
      });
      notifySuccess(t("webhooks.replay.started", { n: r.total }));
      props.onStarted();
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={props.opened} onClose={props.onClose} title={t("webhooks.replay.title")}>
      <Stack gap="sm" data-testid="webhook-replay-form">
        <TextInput
          type="datetime-local"
          label={t("webhooks.replay.from")}
          value={from}
          onChange={(e) => setFrom(e.currentTarget.value)}
        />
        <TextInput
          type="datetime-local"
          label={t("webhooks.replay.to")}
          value={to}
          onChange={(e) => setTo(e.currentTarget.value)}
          error={invalid && from && to ? t("webhooks.replay.rangeInvalid") : undefined}
        />
        <Select
          label={t("webhooks.replay.type")}
          placeholder={t("webhooks.allEvents")}
          data={props.types}
          value={type}
          onChange={setType}
          clearable
        />
        <Switch
          label={t("webhooks.replay.onlyFailed")}
          checked={onlyFailed}
          onChange={(e) => setOnlyFailed(e.currentTarget.checked)}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            {t("common.cancel")}
          </Button>
          <Button onClick={start} loading={busy} disabled={invalid}>
            {t("webhooks.replay.start")}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
