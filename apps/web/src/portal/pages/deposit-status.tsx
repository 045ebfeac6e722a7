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
import { useEffect, useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { t } from "../../i18n/index.js";
import { ApiError } from "../../lib/api.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { safePaymentUrl } from "../../lib/payment-url.js";
import { useQuery } from "../../lib/use-api-query.js";
import { ErrorAlert, notifyError, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { IconAlert, IconCheck, IconExternal } from "../../ui/icons.js";
import { api } from "../api.js";
import { isFinal, type PortalDeposit } from "../types.js";

const POLL_MS = 2_000;

/**
 * The deposit's status, live: server-sent events from /events until the status is final,
 * falling back to polling when the stream is unavailable.
 */
function useLiveDeposit(orderNo: string) {
  const [deposit, setDeposit] = useState<PortalDeposit | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<"sse" | "poll" | "off">("off");

  useEffect(() => {
    let stopped = false;
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const path = `/api/portal/deposits/${encodeURIComponent(orderNo)}`;

    const poll = async () => {
      if (stopped) return;
      setLive("poll");
      try {
        const d = await api.GET("/api/portal/deposits/{orderNo}", { params: { path: { orderNo } } });
        if (stopped) return;
        setDeposit(d);
        if (isFinal(d.status)) {
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
        if (isFinal(d.status)) return;
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
            if (!stopped && !isFinal(d.status)) void poll();
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

  return { deposit, error, live };
}

export function DepositStatusPage() {
  const { orderNo = "" } = useParams();
  const location = useLocation();
  const state = (location.state ?? {}) as { opened?: boolean; fresh?: boolean };
  const { deposit: d, error, live } = useLiveDeposit(orderNo);
  const final = d ? isFinal(d.status) : false;
  const wallets = useQuery(
    () => (d?.status === "succeeded" ? api.GET("/api/portal/wallets") : Promise.resolve(null)),
    [d?.status],
  );
  const [cancelling, setCancelling] = useState(false);

  if (error) return <ErrorAlert error={error} />;
  if (!d) return <PageLoader />;

  const paymentUrl = !final ? safePaymentUrl(d.paymentUrl) : null;
  const wallet = wallets.data?.items.find((w) => w.currency === d.currency);

  const cancel = async () => {
    setCancelling(true);
    try {
      await api.POST("/api/portal/deposits/{orderNo}/cancel", { params: { path: { orderNo: d.orderNo } } });
    } catch (err) {
      notifyError(err);
    } finally {
      setCancelling(false);
    }
  };

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Title order={2}>{t("track.title")}</Title>
        <StatusBadge status={d.status} />
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
            <Text size="sm">{t("track.successText", { credit: money(d.credit, d.currency) })}</Text>
            {wallet ? (
              <Text size="lg" fw={700} data-testid="new-balance">
                {t("track.newBalance", { balance: money(wallet.balance, wallet.currency) })}
              </Text>
            ) : null}
          </Stack>
        </Alert>
      ) : null}

      {d.status === "failed" || d.status === "expired" || d.status === "cancelled" ? (
        <Alert
          color={d.status === "failed" ? "red" : "gray"}
          variant="light"
          icon={<IconAlert />}
          title={t(`track.${d.status}Title`)}
          data-testid="deposit-failure"
          role="alert"
        >
          {d.failureMessage ?? t(`track.${d.status}Text`)}
        </Alert>
      ) : null}

      {!final ? (
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
                onClick={() => void cancel()}
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
            <Text size="sm" className="num">
              {money(d.fee, d.currency)}
            </Text>
          </Stack>
          <Stack gap={0}>
            <Text size="xs" c="dimmed">
              {t("deposit.youGet")}
            </Text>
            {/* A deposit that failed, expired or was cancelled credits nothing. */}
            <Text size="sm" fw={600} className="num" data-testid="status-credit">
              {final && d.status !== "succeeded" ? "—" : money(d.credit, d.currency)}
            </Text>
          </Stack>
        </SimpleGrid>
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
