import { Alert, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { t } from "../i18n/index.js";
import { dateTime } from "../lib/format.js";
import { money } from "../lib/money.js";
import type { FeePreview } from "./deposit-form-model.js";
import { countdownText, isExpired, quoteSummary, rateEquation } from "./fx-preview-model.js";
import type { FxPreview } from "./use-fx-preview.js";

function Row(props: { label: string; value: string; testId: string; strong?: boolean; dim?: boolean }) {
  return (
    <Group justify="space-between" wrap="nowrap">
      <Text size="sm" c="dimmed" fw={props.strong ? 600 : undefined}>
        {props.label}
      </Text>
      <Text
        className="num"
        fw={props.strong ? 700 : undefined}
        c={props.strong ? "teal" : undefined}
        opacity={props.dim ? 0.5 : undefined}
        data-testid={props.testId}
      >
        {props.value}
      </Text>
    </Group>
  );
}

/**
 * The preview of a deposit credited in another currency: the payment side (computed here as
 * the client types, like the same-currency preview), and the account side, the rate, its time
 * and how long it is held, from the server's quote. Figures of a quote that ran out stay, dimmed,
 * while a new one is asked for.
 */
export function FxPreviewPanel(props: {
  fx: FxPreview;
  /** The payment side computed in the browser, until (and besides) the quote. */
  local: FeePreview | null;
  currency: string;
  accountCurrency: string;
}) {
  const { fx, local, currency, accountCurrency } = props;
  const { state, now } = fx;
  const held = state.shown;
  const q = held?.quote ?? null;
  const expired = isExpired(state, now);
  const problem = state.problem;
  const payment = q ? q.payment : local ? { amount: local.amount, fee: local.fee, currency } : null;

  return (
    <Stack gap="xs">
      {state.reconfirm ? (
        <Alert
          color="yellow"
          variant="light"
          title={t("portal.fx.rateChangedTitle")}
          data-testid="fx-reconfirm"
        >
          {t("portal.fx.rateChanged")}
        </Alert>
      ) : null}
      <Paper withBorder p="sm" bg="gray.0" data-testid="fee-preview">
        <Stack gap={4}>
          <Stack gap={4} data-testid="fx-preview" aria-live="polite">
            <Row
              label={t("deposit.youPay")}
              value={payment ? money(payment.amount, payment.currency) : "—"}
              testId="preview-amount"
            />
            <Row
              label={t("deposit.fee")}
              value={payment ? money(payment.fee, payment.currency) : "—"}
              testId="preview-fee"
            />
            <Row
              label={t("portal.fx.rate")}
              value={q?.fx ? rateEquation(currency, accountCurrency, q.fx.rate) : "—"}
              testId="fx-rate"
              dim={expired}
            />
            <Group
              justify="space-between"
              wrap="nowrap"
              pt={4}
              style={{ borderTop: "1px solid var(--mantine-color-gray-3)" }}
            >
              <Text size="sm" fw={600}>
                {t("deposit.youGet")}
              </Text>
              <Text
                fw={700}
                c="teal"
                className="num"
                opacity={expired ? 0.5 : undefined}
                data-testid="preview-credit"
              >
                {q ? money(q.account.amount, q.account.currency) : `— ${accountCurrency}`}
              </Text>
            </Group>
            {q && !expired ? (
              <Text size="sm" data-testid="fx-summary">
                {quoteSummary(q)}
              </Text>
            ) : null}
            {state.inFlight && !q && !problem ? (
              <Text size="xs" c="dimmed" data-testid="fx-status">
                {t("portal.fx.quoting")}
              </Text>
            ) : null}
            {expired && !problem ? (
              <Text size="xs" c="dimmed" data-testid="fx-status">
                {t("portal.fx.requoting")}
              </Text>
            ) : null}
          </Stack>
          {q?.fx ? (
            <Text size="xs" c="dimmed" data-testid="fx-rate-time">
              {t("portal.fx.rateTime", { time: dateTime(q.fx.rateTime) })}
            </Text>
          ) : null}
          {/* A timer, not a live region: it is not read out every second. */}
          {held && held.expiresAt !== null && !expired ? (
            <Text size="xs" c="dimmed" role="timer" aria-live="off" data-testid="fx-countdown">
              {t("portal.fx.heldFor", { time: countdownText(held.expiresAt, now) })}
            </Text>
          ) : null}
        </Stack>
      </Paper>
      {problem?.kind === "unavailable" ? (
        <Alert color="yellow" variant="light" role="alert" data-testid="fx-unavailable">
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm">{t("portal.fx.unavailable", { from: problem.from, to: problem.to })}</Text>
            <Button size="compact-sm" variant="light" onClick={fx.requote} data-testid="fx-retry">
              {t("portal.fx.retry")}
            </Button>
          </Group>
        </Alert>
      ) : null}
      {problem?.kind === "failed" ? (
        <Alert color="red" variant="light" role="alert" data-testid="fx-failed">
          <Group justify="space-between" wrap="nowrap">
            <Text size="sm">{t("portal.fx.failed")}</Text>
            <Button size="compact-sm" variant="light" onClick={fx.requote} data-testid="fx-retry">
              {t("portal.fx.retry")}
            </Button>
          </Group>
        </Alert>
      ) : null}
    </Stack>
  );
}
