import { Alert, Button, Group, Loader, Modal, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useRef, useState } from "react";
import { useNavigate } from "react-router";
import { t } from "../i18n/index.js";
import { ApiError } from "../lib/api.js";
import { groupDigits, money } from "../lib/money.js";
import { useQuery } from "../lib/use-api-query.js";
import { feeSummary } from "../portal/deposit-form-model.js";
import {
  newIdempotencyKey,
  previewWithdrawal,
  type WithdrawFormValues,
} from "../portal/withdraw-form-model.js";
import { ErrorAlert, errorMessage, notifySuccess } from "../ui/feedback.js";
import { api } from "./api.js";
import type { WithdrawalMethod } from "./types.js";
import {
  issuesAtFields,
  methodsForClient,
  staffWithdrawalBody,
  validateStaffWithdrawal,
} from "./withdrawal-request-model.js";

/** What the form needs of the client: who, the group (methods' visibility) and the wallets. */
export type RequestingFor = {
  id: string;
  name: string;
  group: string | null;
  wallets: { currency: string; balance: string; held: string; available: string }[];
};

type Problem = { kind: "insufficient" } | { kind: "failed"; text: string } | null;

/** The form of one method: currency, amount with the fee and what the client receives, the fields. */
function RequestForm(props: {
  client: RequestingFor;
  method: WithdrawalMethod;
  /** Reloads the client (its wallets) after the server found the balance changed. */
  onStale: () => Promise<void>;
  onClose: () => void;
}) {
  const { client, method } = props;
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem>(null);
  // One submission's idempotency key: a retry after a network failure or a server error sends it
  // again, so the request is made once; any other request gets a new one.
  const attempt = useRef<{ body: string; key: string } | null>(null);
  const availableOf = (code: string) => client.wallets.find((w) => w.currency === code)?.available ?? null;
  const form = useForm<WithdrawFormValues>({
    initialValues: {
      currency: method.currencies[0]?.code ?? "",
      amount: "",
      fieldValues: method.fields.map(() => ""),
    },
    validate: (v) => validateStaffWithdrawal(method, v, availableOf),
    validateInputOnBlur: true,
    onValuesChange: () => setProblem(null),
  });
  const currency = method.currencies.find((c) => c.code === form.values.currency);
  const wallet = client.wallets.find((w) => w.currency === form.values.currency);
  const preview = currency ? previewWithdrawal(currency, form.values.amount) : null;
  const code = form.values.currency;

  const submit = form.onSubmit(async (v) => {
    const body = staffWithdrawalBody(client.id, method, v);
    const text = JSON.stringify(body);
    if (attempt.current?.body !== text) attempt.current = { body: text, key: newIdempotencyKey() };
    const idempotencyKey = attempt.current.key;
    setBusy(true);
    setProblem(null);
    try {
      const w = await api.POST("/api/admin/withdrawals", { body: { ...body, idempotencyKey } });
      attempt.current = null;
      notifySuccess(
        t("staffWithdraw.requested", { payoutNo: w.payoutNo, amount: money(w.amount, w.currency) }),
      );
      props.onClose();
      navigate(`/withdrawals/${w.id}`);
    } catch (err) {
      const retryable = !(err instanceof ApiError) || err.status === 0 || err.status >= 500;
      if (!retryable) attempt.current = null;
      if (err instanceof ApiError && err.code === "insufficient_available_balance") {
        // Another withdrawal may have held part of the balance meanwhile: show it as it is now.
        await props.onStale();
        setProblem({ kind: "insufficient" });
      } else if (err instanceof ApiError && err.issues.length) {
        const { form: rest, methodId, ...atFields } = issuesAtFields(err.issues, method);
        form.setErrors(atFields);
        const other = rest ?? methodId;
        if (other) setProblem({ kind: "failed", text: other });
      } else if (err instanceof ApiError && err.code === "idempotency_key_reused") {
        setProblem({ kind: "failed", text: t("staffWithdraw.keyReused") });
      } else {
        setProblem({ kind: "failed", text: errorMessage(err) });
      }
    } finally {
      setBusy(false);
    }
  });

  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label={t("staffWithdraw.formAria")}
      data-testid="staff-withdraw-form"
    >
      <Stack gap="sm">
        <Select
          label={t("field.currency")}
          withAsterisk
          allowDeselect={false}
          data={method.currencies.map((c) => c.code)}
          {...form.getInputProps("currency")}
        />
        {wallet ? (
          <Paper withBorder p="sm" data-testid="staff-withdraw-wallet">
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm" c="dimmed">
                {t("staffWithdraw.availableNow")}
              </Text>
              <Text fw={700} className="num" data-testid="staff-withdraw-available">
                {money(wallet.available, wallet.currency)}
              </Text>
            </Group>
            <Text size="xs" c="dimmed">
              {t("staffWithdraw.balanceHeld", {
                balance: money(wallet.balance, wallet.currency),
                held: money(wallet.held, wallet.currency),
              })}
            </Text>
          </Paper>
        ) : null}
        <TextInput
          label={t("deposit.amountLabel", { currency: code })}
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
          rightSection={
            <Text size="sm" c="dimmed" pr="xs">
              {code}
            </Text>
          }
          rightSectionWidth={56}
          data-autofocus
          {...form.getInputProps("amount")}
        />
        <Paper withBorder p="sm" bg="gray.0" data-testid="staff-withdraw-preview" aria-live="polite">
          <Stack gap={4}>
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm" c="dimmed">
                {t("staffWithdraw.fromWallet")}
              </Text>
              <Text fw={600} className="num" data-testid="preview-amount">
                {preview ? `${groupDigits(preview.amount)} ${code}` : "—"}
              </Text>
            </Group>
            <Group justify="space-between" wrap="nowrap">
              <Text size="sm" c="dimmed">
                {t("field.fee")}
              </Text>
              <Text className="num" data-testid="preview-fee">
                {preview ? `${groupDigits(preview.fee)} ${code}` : "—"}
              </Text>
            </Group>
            <Group
              justify="space-between"
              wrap="nowrap"
              pt={4}
              style={{ borderTop: "1px solid var(--mantine-color-gray-3)" }}
            >
              <Text size="sm" fw={600}>
                {t("staffWithdraw.clientReceives")}
              </Text>
              <Text fw={700} c="teal" className="num" data-testid="preview-payout">
                {preview ? `${groupDigits(preview.payout)} ${code}` : "—"}
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
            autoComplete="off"
            {...form.getInputProps(`fieldValues.${i}`)}
          />
        ))}
        {problem ? (
          <Alert
            color="red"
            variant="light"
            role="alert"
            title={t("staffWithdraw.failedTitle")}
            data-testid="staff-withdraw-error"
          >
            {problem.kind === "insufficient"
              ? t("staffWithdraw.insufficient", {
                  available: wallet ? money(wallet.available, wallet.currency) : "—",
                })
              : problem.text}
          </Alert>
        ) : null}
        <Text size="xs" c="dimmed">
          {t("staffWithdraw.holdHint")}
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            {t("common.cancel")}
          </Button>
          <Button type="submit" loading={busy}>
            {t("staffWithdraw.submit")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * "Request a withdrawal" on a client's page (withdrawals:pay): the methods the client may use in
 * a currency they have a wallet in, then the form; the amount is held at once and the page of the
 * new withdrawal opens. The person who asks never approves it.
 */
export function WithdrawalRequestModal(props: {
  client: RequestingFor;
  opened: boolean;
  onClose: () => void;
  onStale: () => Promise<void>;
}) {
  const { client } = props;
  const methods = useQuery(() => api.GET("/api/admin/withdrawal-methods"), []);
  const [methodId, setMethodId] = useState<string | null>(null);
  const usable = methodsForClient(methods.data?.items ?? [], client);
  const method = usable.find((m) => m.id === methodId) ?? (usable.length === 1 ? usable[0] : undefined);
  const title = t("staffWithdraw.title", { name: client.name });

  return (
    <Modal
      opened={props.opened}
      onClose={props.onClose}
      title={title}
      size="lg"
      closeButtonProps={{ "aria-label": t("common.close") }}
    >
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t("staffWithdraw.intro")}
        </Text>
        <ErrorAlert error={methods.error} />
        {methods.loading && !methods.data ? (
          <Group justify="center">
            <Loader size="sm" />
          </Group>
        ) : null}
        {methods.data && usable.length === 0 ? (
          <Alert color="gray" data-testid="staff-withdraw-no-method">
            {t("staffWithdraw.noMethods")}
          </Alert>
        ) : null}
        {usable.length > 0 ? (
          <Select
            label={t("field.method")}
            placeholder={t("staffWithdraw.chooseMethod")}
            withAsterisk
            allowDeselect={false}
            data={usable.map((m) => ({ value: m.id, label: m.name }))}
            value={method?.id ?? null}
            onChange={setMethodId}
          />
        ) : null}
        {method ? (
          <RequestForm
            key={method.id}
            client={client}
            method={method}
            onStale={props.onStale}
            onClose={props.onClose}
          />
        ) : null}
      </Stack>
    </Modal>
  );
}
