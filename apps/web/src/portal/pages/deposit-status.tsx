import {
  Alert,
  Anchor,
  Button,
  Card,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Text,
  ThemeIcon,
  Title,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { ApiError } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { safePaymentUrl } from "../../lib/payment-url.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifyError, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { IconAlert, IconCheck, IconExternal } from "../../ui/icons.js";
import { api } from "../api.js";
import { lockedQuoteLine } from "../fx-preview-model.js";
import { isFinal, type PortalDeposit } from "../types.js";
import type { DepositPrefill } from "./deposit.js";
import { HeldLine } from "./withdraw.js";

const POLL_MS = 2_000;
/** How long a deposit that was cancelled or expired while watched stays watched by polling (~10 min). */
const LATE_POLLS = 300;

/** Nothing more can change for the client: succeeded or failed, nothing being checked (the server's `final`). */
const settled = (d: PortalDeposit) => !d.underReview && (d.status === "succeeded" || d.status === "failed");
/** Worth watching from the start: still open, or a payment for it is being checked. */
const open = (d: PortalDeposit) => !isFinal(d.status) || d.underReview;

/**
 * The deposit's status, live: server-sent events from /events until nothing more can change,
 * falling back to polling when the stream is unavailable. A deposit cancelled or expired while
 * watched stays watched for a while, since a payment page opened before can still be paid and
 * that payment is then checked (the page shows it without a reload).
 */
function useLiveDeposit(orderNo: string) {
  const [deposit, setDeposit] = useState<PortalDeposit | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<"sse" | "poll" | "off">("off");

  useEffect(() => {
    let stopped = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let latePolls = LATE_POLLS;
    const path = `/api/portal/deposits/${encodeURIComponent(orderNo)}`;

    const poll = async () => {
      if (stopped) return;
      setLive("poll");
      try {
        const d = await api.GET("/api/portal/deposits/{orderNo}", { params: { path: { orderNo } } });
        if (stopped) return;
        setDeposit(d);
        if (settled(d) || (!open(d) && --latePolls <= 0)) {
          setLive("off");
          return;
        }
      } catch (err) {
        if (stopped) return;
        if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
          setError(err);
          setLive("off");
          return;
        }
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };

    api
      .GET("/api/portal/deposits/{orderNo}", { params: { path: { orderNo } } })
      .then((d) => {
        if (stopped) return;
        setDeposit(d);
        if (!open(d)) return;
        if (typeof EventSource === "undefined") {
          void poll();
          return;
        }
        source = new EventSource(`${path}/events`);
        setLive("sse");
        source.addEventListener("status", (e) => {
          try {
            const next = JSON.parse((e as MessageEvent<string>).data) as PortalDeposit;
            setDeposit(next);
          } catch {
            // a malformed event is skipped; the next one carries the whole state again
          }
        });
        source.addEventListener("end", () => {
          source?.close();
          source = null;
          setLive("off");
          // Reached the stream's time cap while still open: keep watching by polling.
          void api.GET("/api/portal/deposits/{orderNo}", { params: { path: { orderNo } } }).then((d) => {
            if (stopped) return;
            setDeposit(d);
            if (open(d)) void poll();
          });
        });
        source.onerror = () => {
          if (source && source.readyState === EventSource.CLOSED) {
            source = null;
            void poll();
          }
        };
      })
      .catch((err: unknown) => {
        if (!stopped) setError(err);
      });

    return () => {
      stopped = true;
      source?.close();
      if (timer) clearTimeout(timer);
    };
  }, [orderNo]);

  return { deposit, error, live, setDeposit };
}

export function DepositStatusPage() {
  const { orderNo = "" } = useParams();
  const location = useLocation();
  const state = (location.state ?? {}) as { opened?: boolean; fresh?: boolean };
  const navigate = useNavigate();
  const { deposit: d, error, live, setDeposit } = useLiveDeposit(orderNo);
  const final = d ? isFinal(d.status) : false;
  const wallets = useQuery(
    () => (d?.status === "succeeded" ? api.GET("/api/portal/wallets") : Promise.resolve(null)),
    [d?.status],
  );
  const [cancelling, setCancelling] = useState(false);

  if (error) return <ErrorAlert error={error} />;
  if (!d) return <PageLoader />;

  const paymentUrl = !final ? safePaymentUrl(d.paymentUrl) : null;
  // The credit is in the account currency when the order locked a quote, else in the currency paid.
  const { creditCurrency, quote } = d;
  const wallet = wallets.data?.items.find((w) => w.currency === creditCurrency);

  const cancel = async () => {
    setCancelling(true);
    try {
      setDeposit(
        await api.POST("/api/portal/deposits/{orderNo}/cancel", { params: { path: { orderNo: d.orderNo } } }),
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === "deposit_under_review") {
        // A payment landed meanwhile: say so, and show it being checked.
        notifyError(new ApiError(err.status, err.code, t("portalError.deposit_under_review")));
        setDeposit({ ...d, underReview: true, paymentUrl: null });
      } else notifyError(err);
    } finally {
      setCancelling(false);
    }
  };
  const confirmCancel = () =>
    modals.openConfirmModal({
      title: t("track.cancelConfirmTitle"),
      children: <Text size="sm">{t("track.cancelConfirmText")}</Text>,
      labels: { confirm: t("track.cancelConfirm"), cancel: t("track.cancelKeep") },
      confirmProps: { color: "red" },
      onConfirm: () => void cancel(),
    });
  // "Try again" starts a new deposit of the same method, currency and amount.
  const retry: DepositPrefill = { methodId: d.methodId, currency: d.currency, amount: d.amount };
  const checking = d.underReview;
  const failureText = (f: NonNullable<PortalDeposit["failure"]>) => t(`deposit.failedReason.${f.reason}`);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Title order={2}>{t("track.title")}</Title>
        {checking && d.status !== "succeeded" ? (
          <StatusBadge status="review">{t("track.checkingBadge")}</StatusBadge>
        ) : (
          <StatusBadge status={d.status} />
        )}
      </Group>

      {d.status === "succeeded" ? (
        <Alert
          color="teal"
          variant="light"
          icon={
            <ThemeIcon color="teal" radius="xl" size="md">
              <IconCheck size={16} />
            </ThemeIcon>
          }
          title={t("track.successTitle")}
          data-testid="deposit-success"
        >
          <Stack gap={4}>
            <Text size="sm">{t("track.successText", { credit: money(d.credit, creditCurrency) })}</Text>
            {wallet ? (
              <Text size="lg" fw={700} data-testid="new-balance">
                {t("track.newBalance", { balance: money(wallet.balance, wallet.currency) })}
              </Text>
            ) : null}
            {wallet ? <HeldLine w={wallet} /> : null}
          </Stack>
        </Alert>
      ) : null}

      {checking ? (
        <Card data-testid="deposit-checking" role="status">
          <Group wrap="nowrap" align="flex-start">
            <Loader size="sm" mt={2} color="yellow" />
            <Stack gap={4}>
              <Text fw={600}>{t("track.checkingTitle")}</Text>
              <Text size="sm">{t("track.checkingText")}</Text>
            </Stack>
          </Group>
        </Card>
      ) : null}

      {d.status === "failed" && !checking ? (
        <Alert
          color="red"
          variant="light"
          icon={<IconAlert />}
          title={t("track.failedTitle")}
          data-testid="deposit-failure"
          role="alert"
        >
          <Stack gap="xs">
            <Text size="sm">
              {d.failure ? failureText(d.failure) : t("deposit.failedReason.payment_failed")}
            </Text>
            {d.failure?.message ? (
              <Text size="sm" data-testid="provider-message">
                {t("deposit.providerSaid", { message: d.failure.message })}
              </Text>
            ) : null}
            <Text size="sm" fw={500}>
              {t("track.nothingCharged")}
            </Text>
            <Group gap="sm">
              <Button size="sm" onClick={() => navigate("/deposit", { state: { prefill: retry } })}>
                {t("track.tryAgain")}
              </Button>
              <Button size="sm" variant="default" onClick={() => navigate("/deposit")}>
                {t("track.otherMethod")}
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : null}

      {(d.status === "expired" || d.status === "cancelled") && !checking ? (
        <Alert
          color="gray"
          variant="light"
          icon={<IconAlert />}
          title={t(`track.${d.status}Title`)}
          data-testid="deposit-failure"
          role="alert"
        >
          {t(`track.${d.status}Text`)}
        </Alert>
      ) : null}

      {!final && !checking ? (
        <Card data-testid="deposit-waiting">
          <Group wrap="nowrap" align="flex-start">
            <Loader size="sm" mt={2} />
            <Stack gap={4}>
              <Text fw={600}>
                {d.status === "processing" ? t("track.processingTitle") : t("track.waitingTitle")}
              </Text>
              <Text size="sm" c="dimmed">
                {t("track.waitingText")}
              </Text>
              {paymentUrl ? (
                <Text size="sm">
                  {state.opened === false ? t("track.popupBlocked") : t("track.tabHint")}{" "}
                  <Anchor
                    href={paymentUrl}
                    target="_blank"
                    rel="noopener noreferrer"
                    fw={600}
                    data-testid="payment-link"
                  >
                    {t("track.openPayment")} <IconExternal size={14} />
                  </Anchor>
                </Text>
              ) : null}
              <Text size="xs" c="dimmed" data-testid="live-mode">
                {live === "sse" ? t("track.liveSse") : live === "poll" ? t("track.livePoll") : ""}
              </Text>
            </Stack>
          </Group>
          {d.status === "pending" ? (
            <Group justify="flex-end" mt="sm">
              <Button
                variant="subtle"
                color="gray"
                size="compact-sm"
                loading={cancelling}
                onClick={confirmCancel}
              >
                {t("track.cancel")}
              </Button>
            </Group>
          ) : null}
        </Card>
      ) : null}

      <Card>
        <SimpleGrid cols={{ base: 2, xs: 3 }} spacing="sm">
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("field.orderNo")}
            </Text>
            <Text size="sm" className="mono" data-testid="order-no">
              {d.orderNo}
            </Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("field.method")}
            </Text>
            <Text size="sm">{d.methodName}</Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("field.created")}
            </Text>
            <Text size="sm">{dateTime(d.createdAt)}</Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("deposit.youPay")}
            </Text>
            <Text size="sm" fw={600} className="num">
              {money(d.amount, d.currency)}
            </Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("deposit.fee")}
            </Text>
            {/* No money was taken for a deposit that failed, expired or was cancelled: no fee either. */}
            <Text size="sm" className="num" data-testid="status-fee">
              {final && d.status !== "succeeded" ? "—" : money(d.fee, d.currency)}
            </Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("deposit.youGet")}
            </Text>
            {/* A deposit that failed, expired or was cancelled credits nothing. */}
            <Text size="sm" fw={600} className="num" data-testid="status-credit">
              {final && d.status !== "succeeded" ? "—" : money(d.credit, creditCurrency)}
            </Text>
          </Stack>
        </SimpleGrid>
        {quote ? (
          <Text size="sm" mt="sm" data-testid="status-fx">
            {lockedQuoteLine(
              quote,
              d.credit,
              creditCurrency,
              d.status === "succeeded" ? "credited" : final ? "ended" : "open",
            )}
          </Text>
        ) : null}
      </Card>
      <Group>
        <Button component={Link} to="/deposit" variant="light">
          {t("track.newDeposit")}
        </Button>
        <Button component={Link} to="/" variant="subtle">
          {t("nav.wallets")}
        </Button>
      </Group>
    </Stack>
  );
}
