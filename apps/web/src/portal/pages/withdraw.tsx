import {
  Alert,
  Button,
  Card,
  Group,
  Paper,
  Radio,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { modals } from "@mantine/modals";
import { useEffect, useRef, useState } from "react";
import { t } from "../../i18n/index.js";
import { ApiError } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { groupDigits, money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import {
  ErrorAlert,
  errorMessage,
  notifyError,
  notifySuccess,
  PageLoader,
  StatusBadge,
} from "../../ui/feedback.js";
import { api } from "../api.js";
import { canonicalAmount, feeSummary } from "../deposit-form-model.js";
import type { PortalWithdrawal, PortalWithdrawalMethod, Wallet } from "../types.js";
import {
  newIdempotencyKey,
  previewWithdrawal,
  usableCurrencies,
  validateWithdrawal,
  type WithdrawFormValues,
} from "../withdraw-form-model.js";

/** Balance, held and available of one wallet, in one line of small print. */
export function HeldLine({ w }: { w: Pick<Wallet, "currency" | "held" | "available"> }) {
  return (
    <Text size="sm" c="dimmed" data-testid={`available-${w.currency}`}>
      {t("wallets.availableLine", {
        available: money(w.available, w.currency),
        held: money(w.held, w.currency),
      })}
    </Text>
  );
}

function MethodCard({ m, wallets }: { m: PortalWithdrawalMethod; wallets: Wallet[] }) {
  const usable = usableCurrencies(m, wallets);
  return (
    <Radio.Card
      value={m.id}
      p="md"
      radius="md"
      data-testid={`wmethod-${m.name}`}
      aria-label={m.name}
      disabled={usable.length === 0}
      style={usable.length === 0 ? { opacity: 0.6, cursor: "not-allowed" } : undefined}
    >
      <Group wrap="nowrap" align="flex-start">
        <Radio.Indicator disabled={usable.length === 0} />
        <Stack gap={4} style={{ minWidth: 0 }}>
          <Text fw={600}>{m.name}</Text>
          {m.currencies.map((c) => (
            <Text size="sm" c="dimmed" key={c.code}>
              <b>{c.code}</b> {groupDigits(c.min)} – {groupDigits(c.max)} · {t("deposit.fee")}:{" "}
              {feeSummary(c)}
            </Text>
          ))}
          {usable.length === 0 ? (
            <Text size="sm" c="dimmed">
              {t("withdraw.noWalletForMethod")}
            </Text>
          ) : null}
        </Stack>
      </Group>
    </Radio.Card>
  );
}

type Outcome =
  | { kind: "requested"; w: PortalWithdrawal }
  | { kind: "insufficient" }
  | { kind: "failed"; text: string }
  | null;

type Body = { methodId: string; currency: string; amount: string; fields: Record<string, string> };

function WithdrawForm(props: {
  method: PortalWithdrawalMethod;
  wallets: Wallet[];
  onChanged: () => Promise<void>;
}) {
  const { method, wallets } = props;
  const currencies = usableCurrencies(method, wallets);
  const availableOf = (code: string) => wallets.find((w) => w.currency === code)?.available ?? null;
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  // One submission's idempotency key: a retry of the same request (after a network failure or a
  // server error) sends it again, so the request is made once; any other request gets a new one.
  const attempt = useRef<{ body: string; key: string } | null>(null);
  const form = useForm<WithdrawFormValues>({
    initialValues: {
      currency: currencies[0]?.code ?? "",
      amount: "",
      fieldValues: method.fields.map(() => ""),
    },
    validate: (v) => validateWithdrawal({ ...method, currencies }, v, availableOf),
    validateInputOnBlur: true,
  });
  const currency = currencies.find((c) => c.code === form.values.currency);
  const wallet = wallets.find((w) => w.currency === form.values.currency);
  const preview = currency ? previewWithdrawal(currency, form.values.amount) : null;

  // A new amount or currency is a new attempt (the note of a request just made stays until then).
  const typed = form.values.amount;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on input change only
  useEffect(
    () => setOutcome((o) => (o?.kind === "requested" && typed === "" ? o : null)),
    [typed, form.values.currency],
  );

  const submit = form.onSubmit(async (v) => {
    const fields: Record<string, string> = {};
    method.fields.forEach((f, i) => {
      const value = (v.fieldValues[i] ?? "").trim();
      if (value) fields[f.key] = value;
    });
    const body: Body = {
      methodId: method.id,
      currency: v.currency,
      amount: canonicalAmount(v.amount) ?? v.amount.trim(),
      fields,
    };
    const text = JSON.stringify(body);
    if (attempt.current?.body !== text) attempt.current = { body: text, key: newIdempotencyKey() };
    const idempotencyKey = attempt.current.key;
    setBusy(true);
    setOutcome(null);
    try {
      const w = await api.POST("/api/portal/withdrawals", { body: { ...body, idempotencyKey } });
      attempt.current = null;
      setOutcome({ kind: "requested", w });
      form.reset();
      await props.onChanged();
    } catch (err) {
      const retryable = !(err instanceof ApiError) || err.status === 0 || err.status >= 500;
      if (!retryable) attempt.current = null;
      if (err instanceof ApiError && err.code === "insufficient_available_balance") {
        // Another withdrawal may have held part of the balance meanwhile: show it as it is now.
        await props.onChanged();
        setOutcome({ kind: "insufficient" });
      } else if (err instanceof ApiError && err.issues.length) {
        const errors: Record<string, string> = {};
        for (const issue of err.issues) {
          const path = issue.path.replace(/^body\.?/, "");
          if (path.startsWith("fields.")) {
            const i = method.fields.findIndex((f) => f.key === path.slice("fields.".length));
            errors[i >= 0 ? `fieldValues.${i}` : "amount"] = issue.message;
          } else errors[path === "currency" ? "currency" : "amount"] = issue.message;
        }
        form.setErrors(errors);
      } else if (err instanceof ApiError && err.code === "idempotency_key_reused") {
        setOutcome({ kind: "failed", text: t("withdraw.keyReused") });
      } else {
        setOutcome({ kind: "failed", text: errorMessage(err) });
      }
    } finally {
      setBusy(false);
    }
  });

  if (currencies.length === 0) return <Alert color="gray">{t("withdraw.noWalletForMethod")}</Alert>;

  return (
    <Card data-testid="withdraw-form">
      <form onSubmit={submit} noValidate aria-label={t("withdraw.formAria")}>
        <Stack gap="md">
          <Title order={4}>{method.name}</Title>
          {currencies.length > 1 ? (
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                {t("field.currency")}
              </Text>
              <SegmentedControl
                data={currencies.map((c) => c.code)}
                {...form.getInputProps("currency")}
                aria-label={t("field.currency")}
              />
            </Stack>
          ) : null}
          {wallet ? (
            <Paper withBorder p="sm" data-testid="withdraw-wallet">
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" c="dimmed">
                  {t("withdraw.availableNow")}
                </Text>
                <Text fw={700} className="num" data-testid="withdraw-available">
                  {money(wallet.available, wallet.currency)}
                </Text>
              </Group>
              <Text size="xs" c="dimmed">
                {t("withdraw.balanceHeld", {
                  balance: money(wallet.balance, wallet.currency),
                  held: money(wallet.held, wallet.currency),
                })}
              </Text>
            </Paper>
          ) : null}
          <TextInput
            label={t("deposit.amountLabel", { currency: form.values.currency })}
            description={
              currency
                ? t("deposit.limits", {
                    min: groupDigits(currency.min),
                    max: groupDigits(currency.max),
                    currency: currency.code,
                  })
                : undefined
            }
            inputMode="decimal"
            autoComplete="off"
            withAsterisk
            size="md"
            rightSection={
              <Text size="sm" c="dimmed" pr="xs">
                {form.values.currency}
              </Text>
            }
            rightSectionWidth={56}
            name="amount"
            {...form.getInputProps("amount")}
          />
          <Paper withBorder p="sm" bg="gray.0" data-testid="withdraw-preview" aria-live="polite">
            <Stack gap={4}>
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" c="dimmed">
                  {t("withdraw.fromWallet")}
                </Text>
                <Text fw={600} className="num" data-testid="preview-amount">
                  {preview ? `${groupDigits(preview.amount)} ${form.values.currency}` : "—"}
                </Text>
              </Group>
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" c="dimmed">
                  {t("deposit.fee")}
                </Text>
                <Text className="num" data-testid="preview-fee">
                  {preview ? `${groupDigits(preview.fee)} ${form.values.currency}` : "—"}
                </Text>
              </Group>
              <Group
                justify="space-between"
                wrap="nowrap"
                pt={4}
                style={{ borderTop: "1px solid var(--mantine-color-gray-3)" }}
              >
                <Text size="sm" fw={600}>
                  {t("deposit.youGet")}
                </Text>
                <Text fw={700} c="teal" className="num" data-testid="preview-payout">
                  {preview ? `${groupDigits(preview.payout)} ${form.values.currency}` : "—"}
                </Text>
              </Group>
              {currency ? (
                <Text size="xs" c="dimmed">
                  {t("deposit.feeRule", { fee: feeSummary(currency) })}
                </Text>
              ) : null}
            </Stack>
          </Paper>
          {method.fields.map((f, i) => (
            <TextInput
              key={f.key}
              label={f.label}
              withAsterisk={f.required}
              name={`field-${f.key}`}
              autoComplete="off"
              {...form.getInputProps(`fieldValues.${i}`)}
            />
          ))}
          {outcome?.kind === "insufficient" ? (
            <Alert
              color="red"
              variant="light"
              role="alert"
              title={t("withdraw.failedTitle")}
              data-testid="withdraw-error"
            >
              {t("withdraw.insufficient", {
                available: wallet ? money(wallet.available, wallet.currency) : "—",
              })}
            </Alert>
          ) : null}
          {outcome?.kind === "failed" ? (
            <Alert
              color="red"
              variant="light"
              role="alert"
              title={t("withdraw.failedTitle")}
              data-testid="withdraw-error"
            >
              {outcome.text}
            </Alert>
          ) : null}
          {outcome?.kind === "requested" ? (
            <Alert
              color="teal"
              variant="light"
              role="status"
              title={t("withdraw.requestedTitle")}
              data-testid="withdraw-success"
            >
              {t("withdraw.requestedText", {
                amount: money(outcome.w.amount, outcome.w.currency),
                payout: money(outcome.w.payoutAmount, outcome.w.currency),
              })}
            </Alert>
          ) : null}
          <Button type="submit" size="md" loading={busy} fullWidth data-testid="withdraw-submit">
            {t("withdraw.submit")}
          </Button>
          <Text size="xs" c="dimmed" ta="center">
            {t("withdraw.holdHint")}
          </Text>
        </Stack>
      </form>
    </Card>
  );
}

/** The client's withdrawals: status in words, the reason of a rejection, Cancel while nobody approved it. */
export function WithdrawalList(props: { items: PortalWithdrawal[]; onChanged: () => Promise<void> }) {
  const cancel = (w: PortalWithdrawal) =>
    modals.openConfirmModal({
      title: t("withdraw.cancelTitle"),
      children: <Text size="sm">{t("withdraw.cancelText", { amount: money(w.amount, w.currency) })}</Text>,
      labels: { confirm: t("withdraw.cancelConfirm"), cancel: t("track.cancelKeep") },
      confirmProps: { color: "red" },
      onConfirm: async () => {
        try {
          await api.POST("/api/portal/withdrawals/{id}/cancel", { params: { path: { id: w.id } } });
          notifySuccess(t("withdraw.cancelled", { amount: money(w.amount, w.currency) }));
        } catch (err) {
          notifyError(err);
        }
        await props.onChanged();
      },
    });
  if (props.items.length === 0) return <Text c="dimmed">{t("withdraw.empty")}</Text>;
  return (
    <Stack gap="xs" data-testid="withdrawal-list">
      {props.items.map((w) => (
        <Card key={w.id} padding="sm" data-testid={`withdrawal-${w.payoutNo}`} data-status={w.status}>
          <Group justify="space-between" wrap="nowrap" align="flex-start">
            <Stack gap={0} style={{ minWidth: 0 }}>
              <Text fw={600} className="num">
                {money(w.amount, w.currency)}
              </Text>
              <Text size="xs" c="dimmed" lineClamp={1}>
                <bdi>{w.methodName ?? ""}</bdi> · <bdi>{dateTime(w.createdAt)}</bdi>
              </Text>
              <Text size="xs" c="dimmed">
                {t("withdraw.receiveLine", {
                  payout: money(w.payoutAmount, w.currency),
                  fee: money(w.fee, w.currency),
                })}
              </Text>
              <Text size="xs" c="dimmed" className="mono">
                {w.payoutNo}
              </Text>
              {w.status === "rejected" && w.clientReason ? (
                <Text size="sm" c="red.8" data-testid="rejection-reason">
                  {t("withdraw.rejectedBecause", { reason: w.clientReason })}
                </Text>
              ) : null}
            </Stack>
            <Stack gap={4} align="flex-end">
              <StatusBadge status={w.status} />
              {w.cancellable ? (
                <Button size="compact-sm" variant="default" onClick={() => cancel(w)}>
                  {t("withdraw.cancel")}
                </Button>
              ) : null}
            </Stack>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}

/**
 * The portal's withdrawal page: the methods the client may use (a method is usable in the
 * currencies the client has a wallet in), the form with the fee and what the client receives
 * worked out as they type, and the client's withdrawals below it.
 */
export function WithdrawPage() {
  const methods = useQuery(() => api.GET("/api/portal/withdrawal-methods"), []);
  const wallets = useQuery(() => api.GET("/api/portal/wallets"), []);
  const list = useQuery(() => api.GET("/api/portal/withdrawals"), []);
  const [methodId, setMethodId] = useState<string | null>(null);
  const items = methods.data?.items ?? [];
  const walletItems = wallets.data?.items ?? [];
  const usable = items.filter((m) => usableCurrencies(m, walletItems).length > 0);
  const selected = usable.find((m) => m.id === methodId) ?? (usable.length === 1 ? usable[0] : undefined);
  const reload = async () => {
    await Promise.all([wallets.reload(), list.reload()]);
  };

  if ((methods.loading && !methods.data) || (wallets.loading && !wallets.data)) return <PageLoader />;
  return (
    <Stack gap="md">
      <Title order={2}>{t("withdraw.title")}</Title>
      <ErrorAlert error={methods.error ?? wallets.error} />
      {methods.data && items.length === 0 ? (
        <Alert color="gray">{t("withdraw.noMethods")}</Alert>
      ) : (
        <Radio.Group
          value={selected?.id ?? null}
          onChange={setMethodId}
          label={t("withdraw.chooseMethod")}
          name="method"
        >
          <Stack gap="xs" mt="xs">
            {items.map((m) => (
              <MethodCard key={m.id} m={m} wallets={walletItems} />
            ))}
          </Stack>
        </Radio.Group>
      )}
      {selected ? (
        <WithdrawForm key={selected.id} method={selected} wallets={walletItems} onChanged={reload} />
      ) : null}
      <Title order={4} mt="sm">
        {t("withdraw.yours")}
      </Title>
      <ErrorAlert error={list.error} />
      {list.loading && !list.data ? <PageLoader /> : null}
      {list.data ? <WithdrawalList items={list.data.items} onChanged={reload} /> : null}
    </Stack>
  );
}
