import {
  ActionIcon,
  Alert,
  Button,
  Card,
  CopyButton,
  Group,
  NumberInput,
  Stack,
  Text,
  Title,
  Tooltip,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { useEffect, useRef, useState } from "react";
import { t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { notifyError, notifySuccess } from "../../ui/feedback.js";
import { IconCheck, IconCopy, IconEye, IconEyeOff, IconRefresh } from "../../ui/icons.js";
import { ShownOnceSecret } from "../../ui/shown-once-secret.js";
import { api } from "../api.js";
import type { Integration, Revealed } from "../types.js";
import { useStaff } from "../use-staff.js";

const MASK = "••••••••••••••••••••••••";
/** Revealed secrets hide themselves after this long. */
const AUTO_HIDE_MS = 120_000;

function SecretRow(props: { label: string; value: string | null; testId: string }) {
  return (
    <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
      <Stack gap={0} style={{ minWidth: 0, flex: 1 }}>
        <Text size="xs" c="dimmed" fw={600} tt="uppercase">
          {props.label}
        </Text>
        <Text size="sm" className="mono" data-testid={props.testId}>
          {props.value ?? MASK}
        </Text>
      </Stack>
      {props.value ? (
        <CopyButton value={props.value} timeout={1500}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? t("common.copied") : t("common.copy")} withArrow>
              <ActionIcon
                variant="subtle"
                color={copied ? "teal" : "gray"}
                onClick={copy}
                aria-label={t("integrations.secrets.copy", { what: props.label })}
              >
                {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      ) : null}
    </Group>
  );
}

const NEW_TOKEN_MODAL = "new-token";

/**
 * The token a rotation answered with, shown once for the admin to copy into the tenant backend.
 * It lives only in this modal: closing it drops it (the eye icon reveals it again, audited).
 */
function showNewToken(token: string): void {
  modals.open({
    modalId: NEW_TOKEN_MODAL,
    title: t("integrations.rotate.newTitle"),
    closeOnClickOutside: false,
    children: (
      <ShownOnceSecret
        notice={t("integrations.rotate.newText")}
        value={token}
        testId="new-token"
        copyLabel={t("integrations.rotate.copyToken")}
        closeLabel={t("integrations.rotate.dismiss")}
        onClose={() => modals.close(NEW_TOKEN_MODAL)}
      />
    ),
  });
}

/**
 * merchant_id, token and CRM_Callback_URL behind the eye icon (each reveal is audited by the
 * server), with copy buttons; and token rotation with its grace period.
 */
export function CredentialsCard(props: { integration: Integration; onChanged: () => void }) {
  const { integration } = props;
  const { can } = useStaff();
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [busy, setBusy] = useState(false);
  const hideTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const mayReveal = can("settings:reveal");
  const mayRotate = can("settings:rotate");

  useEffect(
    () => () => {
      if (hideTimer.current) clearTimeout(hideTimer.current);
    },
    [],
  );

  const hide = () => {
    setRevealed(null);
    if (hideTimer.current) clearTimeout(hideTimer.current);
  };

  const reveal = async () => {
    setBusy(true);
    try {
      const r = await api.POST("/api/admin/integrations/{id}/reveal", {
        params: { path: { id: integration.id } },
      });
      setRevealed(r);
      if (hideTimer.current) clearTimeout(hideTimer.current);
      hideTimer.current = setTimeout(() => setRevealed(null), AUTO_HIDE_MS);
    } catch (err) {
      notifyError(err);
    } finally {
      setBusy(false);
    }
  };

  const rotate = () => {
    let graceHours = 24;
    modals.openConfirmModal({
      title: t("integrations.rotate.title"),
      children: (
        <Stack gap="sm">
          <Text size="sm">{t("integrations.rotate.text")}</Text>
          <NumberInput
            label={t("integrations.rotate.grace")}
            description={t("integrations.rotate.graceHint")}
            defaultValue={24}
            min={0}
            max={720}
            allowDecimal={false}
            onChange={(v) => {
              graceHours = Number(v) || 0;
            }}
            data-autofocus
          />
        </Stack>
      ),
      labels: { confirm: t("integrations.rotate.confirm"), cancel: t("common.cancel") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          const r = await api.POST("/api/admin/integrations/{id}/rotate-token", {
            params: { path: { id: integration.id } },
            body: { graceHours },
          });
          hide();
          notifySuccess(
            r.previousTokenValidUntil
              ? t("integrations.rotate.doneGrace", { until: dateTime(r.previousTokenValidUntil) })
              : t("integrations.rotate.done"),
          );
          showNewToken(r.token);
          props.onChanged();
        } catch (err) {
          notifyError(err);
        }
      },
    });
  };

  return (
    <Card data-testid="credentials-card">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={4}>{t("integrations.secrets.title")}</Title>
        <Group gap="xs">
          <Tooltip
            label={
              mayReveal
                ? revealed
                  ? t("integrations.secrets.hide")
                  : t("integrations.secrets.reveal")
                : t("integrations.secrets.noPermission")
            }
            withArrow
          >
            <span>
              <ActionIcon
                size="lg"
                variant={revealed ? "filled" : "light"}
                onClick={revealed ? hide : () => void reveal()}
                loading={busy}
                disabled={!mayReveal}
                aria-label={revealed ? t("integrations.secrets.hide") : t("integrations.secrets.reveal")}
                aria-pressed={revealed ? "true" : "false"}
                data-testid="reveal-toggle"
              >
                {revealed ? <IconEyeOff /> : <IconEye />}
              </ActionIcon>
            </span>
          </Tooltip>
          {mayRotate ? (
            <Button variant="light" color="red" leftSection={<IconRefresh size={16} />} onClick={rotate}>
              {t("integrations.rotate.button")}
            </Button>
          ) : null}
        </Group>
      </Group>
      <Stack gap="sm">
        <SecretRow label="merchant_id" value={revealed?.merchantId ?? null} testId="secret-merchant-id" />
        <SecretRow label="token" value={revealed?.token ?? null} testId="secret-token" />
        <SecretRow
          label="CRM_Callback_URL"
          value={revealed?.callbackUrl ?? null}
          testId="secret-callback-url"
        />
        {!mayReveal ? (
          <Text size="xs" c="dimmed" data-testid="reveal-denied">
            {t("integrations.secrets.noPermission")}
          </Text>
        ) : null}
        <Text size="xs" c="dimmed">
          {integration.tokenRotatedAt
            ? t("integrations.rotate.lastRotated", { at: dateTime(integration.tokenRotatedAt) })
            : t("integrations.rotate.never")}
        </Text>
        {integration.previousTokenValidUntil && integration.previousTokenValidUntil > Date.now() ? (
          <Alert color="yellow" variant="light" p="xs" data-testid="grace-notice">
            <Text size="sm">
              {t("integrations.rotate.graceUntil", { until: dateTime(integration.previousTokenValidUntil) })}
            </Text>
          </Alert>
        ) : null}
      </Stack>
    </Card>
  );
}
