import {
  Alert,
  Button,
  Card,
  Group,
  Paper,
  Radio,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { type GetInputPropsReturnType, useForm } from "@mantine/form";
import { useEffect, useRef, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { apiLanguage, locale, t } from "../../i18n/index.js";
import { type ApiBody, ApiError } from "../../lib/api.js";
import { groupDigits } from "../../lib/money.js";
import {
  closePendingTab,
  navigatePendingTab,
  openPendingTab,
  safePaymentUrl,
} from "../../lib/payment-url.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, errorMessage, PageLoader } from "../../ui/feedback.js";
import { IconExternal } from "../../ui/icons.js";
import { formatAmountText } from "../amount-text.js";
import { api } from "../api.js";
import {
  canonicalAmount,
  type DepositFormValues,
  deviceKind,
  feeSummary,
  previewFee,
  validateDeposit,
} from "../deposit-form-model.js";
import { FxPreviewPanel } from "../fx-preview.js";
import { convertsCurrency, isQuoteConflict, quoteInputOf, submitDecision } from "../fx-preview-model.js";
import type { PortalField, PortalMethod } from "../types.js";
import { useFxPreview } from "../use-fx-preview.js";

/**
 * A method whose payment provider is not answering (its API-1 breaker is open) is greyed and
 * cannot be chosen: the server would refuse it at once. Its fallback, when it has one, is
 * offered under it (outside the card, which is itself a button).
 */
function MethodCard(props: { m: PortalMethod; fallback?: PortalMethod; onFallback: (id: string) => void }) {
  const { m, fallback, onFallback } = props;
  const unavailable = m.temporarilyUnavailable;
  return (
    <Stack gap={6}>
      <Radio.Card
        value={m.id}
        p="md"
        radius="md"
        data-testid={`method-${m.name}`}
        aria-label={m.name}
        disabled={unavailable}
        style={unavailable ? { opacity: 0.6, cursor: "not-allowed" } : undefined}
      >
        <Group wrap="nowrap" align="flex-start">
          <Radio.Indicator disabled={unavailable} />
          <Stack gap={4} style={{ minWidth: 0 }}>
            <Text fw={600}>{m.name}</Text>
            {unavailable ? (
              <Text size="sm" c="dimmed" data-testid={`method-unavailable-${m.name}`}>
                <b>{t("deposit.methodUnavailable")}</b> · {t("deposit.methodUnavailableReason")}
              </Text>
            ) : null}
            {m.currencies.map((c) => (
              <Text size="sm" c="dimmed" key={c.code}>
                <b>{c.code}</b> {groupDigits(c.min)} – {groupDigits(c.max)} · {t("deposit.fee")}:{" "}
                {feeSummary(c)}
                {convertsCurrency(c)
                  ? ` · ${t("portal.fx.creditsIn", { currency: c.accountCurrency ?? "" })}`
                  : null}
              </Text>
            ))}
          </Stack>
        </Group>
      </Radio.Card>
      {unavailable && fallback ? (
        <Button
          variant="light"
          color="teal"
          size="xs"
          w="fit-content"
          data-testid={`method-fallback-${m.name}`}
          onClick={() => onFallback(fallback.id)}
        >
          {t("deposit.useFallback", { name: fallback.name })}
        </Button>
      ) : null}
    </Stack>
  );
}

function FieldInput(props: { f: PortalField; inputProps: GetInputPropsReturnType }) {
  const { f, inputProps } = props;
  const common = { label: f.label, withAsterisk: f.required, name: `field-${f.key}` };
  switch (f.type) {
    case "select":
      return (
        <Select
          {...common}
          data={f.options}
          placeholder={t("deposit.choose")}
          allowDeselect={!f.required}
          {...inputProps}
        />
      );
    case "number":
      return <TextInput {...common} inputMode="decimal" {...inputProps} />;
    case "email":
      return <TextInput {...common} type="email" autoComplete="email" {...inputProps} />;
    case "phone":
      return <TextInput {...common} type="tel" autoComplete="tel" {...inputProps} />;
    default:
      return <TextInput {...common} {...inputProps} />;
  }
}

/** Why starting the deposit failed, in the client's words: a translated reason, the provider's own only when it refused. */
type Outcome =
  | { kind: "failed"; text: string; providerMessage: string | null }
  | { kind: "unsafe" }
  /** A converting currency without a current quote on screen: nothing was sent. */
  | { kind: "waitForQuote" }
  | null;

type DepositBody = ApiBody<"/api/portal/deposits", "post">;

/** What "Try again" on a failed deposit hands the form (deposit-status.tsx). */
export type DepositPrefill = { methodId: string; currency: string; amount: string };

function DepositForm({ method, prefill }: { method: PortalMethod; prefill?: DepositPrefill }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const prefillCurrency = method.currencies.some((c) => c.code === prefill?.currency)
    ? prefill?.currency
    : undefined;
  const form = useForm<DepositFormValues>({
    initialValues: {
      currency: prefillCurrency ?? method.currencies[0]?.code ?? "",
      // Shown the way the client writes amounts; sent again as plain text.
      amount: prefillCurrency && prefill ? formatAmountText(prefill.amount, locale()) : "",
      fieldValues: method.fields.map(() => ""),
    },
    validate: (v) => validateDeposit(method, v),
    validateInputOnBlur: true,
  });
  const currency = method.currencies.find((c) => c.code === form.values.currency);
  const preview = currency ? previewFee(currency, form.values.amount) : null;
  const submitting = useRef(false);
  // Paid in one currency, credited in another: both sides come from a server quote.
  const converting = convertsCurrency(currency);
  const accountCurrency = converting ? (currency?.accountCurrency ?? null) : null;
  const quoteInput = quoteInputOf(method.id, currency, form.values.amount);
  const fx = useFxPreview(quoteInput, accountCurrency);

  // Any change after a failure starts a new attempt.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on input change only
  useEffect(() => setOutcome(null), [form.values.amount, form.values.currency]);
  // A quote has come: "wait for the rate" no longer applies.
  useEffect(() => {
    if (fx.state.shown) setOutcome((o) => (o?.kind === "waitForQuote" ? null : o));
  }, [fx.state.shown]);

  const submit = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (submitting.current) return;
    const check = form.validate();
    if (check.hasErrors) return;
    // Never created at a rate the client has not seen: only with the quote on screen.
    const decision = submitDecision(fx.state, quoteInput, converting, Date.now());
    if (decision.kind === "wait") {
      setOutcome({ kind: "waitForQuote" });
      return;
    }
    // Opened now, inside the click, so popup blockers let it through; pointed at the payment
    // page once the server answers.
    const tab = openPendingTab();
    submitting.current = true;
    setBusy(true);
    setOutcome(null);
    const v = form.getValues();
    const fields: Record<string, string> = {};
    method.fields.forEach((f, i) => {
      const value = (v.fieldValues[i] ?? "").trim();
      if (value) fields[f.key] = value;
    });
    const body: DepositBody = {
      methodId: method.id,
      currency: v.currency,
      // Validated above, so it reads; the API takes plain decimal text only.
      amount: canonicalAmount(v.amount) ?? v.amount.trim(),
      fields,
      device: deviceKind(),
      language: apiLanguage(),
    };
    // The order locks exactly the quote shown.
    if (decision.kind === "send" && decision.token) {
      body.quoteToken = decision.token;
      // The amount exactly as quoted ("100.00", not "100"), so nothing differs but the token.
      if (quoteInput) body.amount = quoteInput.amount;
    }
    api
      .postAccepting("/api/portal/deposits", { body }, [502])
      .then((r) => {
        if (r.error || r.status === "failed") {
          closePendingTab(tab);
          const reason = r.error?.reason ?? "api1_unavailable";
          setOutcome({
            kind: "failed",
            text: t(`deposit.failedReason.${reason}`),
            providerMessage: reason === "api1_declined" ? (r.error?.message ?? null) : null,
          });
          return;
        }
        const url = safePaymentUrl(r.paymentUrl);
        if (!url) {
          // Never opened, never linked: only http(s) payment pages.
          closePendingTab(tab);
          setOutcome({ kind: "unsafe" });
          return;
        }
        const opened = navigatePendingTab(tab, url);
        navigate(`/deposits/${encodeURIComponent(r.orderNo)}`, { state: { opened, fresh: true } });
      })
      .catch((err: unknown) => {
        closePendingTab(tab);
        if (err instanceof ApiError && isQuoteConflict(err.code)) {
          // The quote no longer holds: quote again, and the client confirms the new figures.
          fx.onConflict();
          return;
        }
        if (err instanceof ApiError && err.code === "fx_rate_unavailable") {
          fx.onUnavailable(v.currency, accountCurrency ?? "");
          return;
        }
        if (err instanceof ApiError && err.issues.length) {
          const errors: Record<string, string> = {};
          for (const issue of err.issues) {
            const path = issue.path.replace(/^body\.?/, "");
            if (path.startsWith("fields.")) {
              const key = path.slice("fields.".length);
              const i = method.fields.findIndex((f) => f.key === key);
              errors[i >= 0 ? `fieldValues.${i}` : "amount"] = issue.message;
            } else {
              errors[path === "currency" || path === "amount" ? path : "amount"] = issue.message;
            }
          }
          form.setErrors(errors);
        } else {
          // The breaker opened since the list was read: the reason in the client's language.
          const unavailable = err instanceof ApiError && err.code === "method_temporarily_unavailable";
          const text = unavailable
            ? `${t("deposit.methodUnavailable")}: ${t("deposit.methodUnavailableReason")}`
            : errorMessage(err);
          setOutcome({ kind: "failed", text, providerMessage: null });
        }
      })
      .finally(() => {
        submitting.current = false;
        setBusy(false);
      });
  };

  return (
    <Card data-testid="deposit-form">
      <form onSubmit={submit} noValidate aria-label={t("deposit.formAria")}>
        <Stack gap="md">
          <Title order={4}>{method.name}</Title>
          {method.currencies.length > 1 ? (
            <Stack gap={4}>
              <Text size="sm" fw={500}>
                {t("field.currency")}
              </Text>
              <SegmentedControl
                data={method.currencies.map((c) => c.code)}
                {...form.getInputProps("currency")}
                aria-label={t("field.currency")}
              />
            </Stack>
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
          {converting && accountCurrency ? (
            <FxPreviewPanel
              fx={fx}
              local={preview}
              currency={form.values.currency}
              accountCurrency={accountCurrency}
            />
          ) : (
            <Paper withBorder p="sm" bg="gray.0" data-testid="fee-preview" aria-live="polite">
              <Stack gap={4}>
                <Group justify="space-between" wrap="nowrap">
                  <Text size="sm" c="dimmed">
                    {t("deposit.youPay")}
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
                  <Text fw={700} c="teal" className="num" data-testid="preview-credit">
                    {preview ? `${groupDigits(preview.credit)} ${form.values.currency}` : "—"}
                  </Text>
                </Group>
                {currency ? (
                  <Text size="xs" c="dimmed">
                    {t("deposit.feeRule", { fee: feeSummary(currency) })}
                  </Text>
                ) : null}
              </Stack>
            </Paper>
          )}
          {method.fields.map((f, i) => (
            <FieldInput key={f.key} f={f} inputProps={form.getInputProps(`fieldValues.${i}`)} />
          ))}
          {outcome?.kind === "failed" ? (
            <Alert
              color="red"
              variant="light"
              title={t("deposit.failedTitle")}
              role="alert"
              data-testid="deposit-error"
            >
              <Stack gap={4}>
                <Text size="sm">{outcome.text}</Text>
                {outcome.providerMessage ? (
                  <Text size="sm" data-testid="provider-message">
                    {t("deposit.providerSaid", { message: outcome.providerMessage })}
                  </Text>
                ) : null}
              </Stack>
            </Alert>
          ) : null}
          {outcome?.kind === "waitForQuote" ? (
            <Text size="sm" c="dimmed" role="status" data-testid="fx-wait">
              {t("portal.fx.waitForQuote")}
            </Text>
          ) : null}
          {outcome?.kind === "unsafe" ? (
            <Alert
              color="red"
              variant="light"
              title={t("deposit.failedTitle")}
              role="alert"
              data-testid="deposit-error"
            >
              {t("deposit.unsafeUrl")}
            </Alert>
          ) : null}
          <Button
            type="submit"
            size="md"
            loading={busy}
            fullWidth
            rightSection={<IconExternal size={18} />}
            data-testid="deposit-submit"
          >
            {converting && fx.state.reconfirm ? t("portal.fx.confirmNew") : t("deposit.submit")}
          </Button>
          <Text size="xs" c="dimmed" ta="center">
            {t("deposit.newTabHint")}
          </Text>
        </Stack>
      </form>
    </Card>
  );
}

export function DepositPage() {
  const methods = useQuery(() => api.GET("/api/portal/deposit-methods"), []);
  const prefill = ((useLocation().state ?? {}) as { prefill?: DepositPrefill }).prefill;
  const [methodId, setMethodId] = useState<string | null>(prefill?.methodId ?? null);
  const items = methods.data?.items ?? [];
  const usable = items.filter((m) => !m.temporarilyUnavailable);
  const selected = usable.find((m) => m.id === methodId) ?? (usable.length === 1 ? usable[0] : undefined);

  if (methods.loading && !methods.data) return <PageLoader />;
  return (
    <Stack gap="md">
      <Title order={2}>{t("deposit.title")}</Title>
      <ErrorAlert error={methods.error} />
      {methods.data && items.length === 0 ? (
        <Alert color="gray">{t("deposit.noMethods")}</Alert>
      ) : (
        <Radio.Group
          value={selected?.id ?? null}
          onChange={setMethodId}
          label={t("deposit.chooseMethod")}
          name="method"
        >
          <Stack gap="xs" mt="xs">
            {items.map((m) => (
              <MethodCard
                key={m.id}
                m={m}
                fallback={items.find((f) => f.id === m.fallbackMethodId)}
                onFallback={setMethodId}
              />
            ))}
          </Stack>
        </Radio.Group>
      )}
      {selected ? (
        <DepositForm
          key={selected.id}
          method={selected}
          prefill={prefill?.methodId === selected.id ? prefill : undefined}
        />
      ) : null}
      <Text size="xs" c="dimmed">
        {t("deposit.securityNote")}
      </Text>
    </Stack>
  );
}
