import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Grid,
  Group,
  SimpleGrid,
  Spoiler,
  Stack,
  Text,
  Timeline,
  Title,
} from "@mantine/core";
import type { ReactNode } from "react";
import { Link, useParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime, dateTimeSeconds } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { safePaymentUrl } from "../../lib/payment-url.js";
import { revealInvisible } from "../../lib/reveal-invisible.js";
import { useQuery } from "../../lib/use-api-query.js";
import { openCommentModal } from "../../ui/comment-modal.js";
import { ErrorAlert, notifySuccess, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { CreditFigures } from "../credit-figures.js";
import { QuoteCard } from "../fx/quote-card.js";
import type { AdminDepositDetail, TimelineEvent } from "../types.js";
import { useStaff } from "../use-staff.js";

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </Stack>
  );
}

const str = (v: unknown): string => (v === null || v === undefined ? "—" : String(v));

function EventBody({ e, d }: { e: TimelineEvent; d: AdminDepositDetail }) {
  switch (e.kind) {
    case "created":
      return (
        <Text size="sm">
          {t("timeline.createdBy", {
            by: e.data.by === "staff" ? t("timeline.byStaff") : t("timeline.byClient"),
            amount: money(str(e.data.amount), str(e.data.currency)),
            fee: money(str(e.data.fee), str(e.data.currency)),
          })}
        </Text>
      );
    case "api1_call":
      return (
        <Stack gap={4}>
          <Group gap="xs">
            <Badge color={e.data.outcome === "ok" ? "teal" : "red"} variant="light">
              {e.data.outcome === "ok" ? t("timeline.api1Ok") : t("timeline.api1Failed")}
            </Badge>
            <Text size="sm">
              HTTP {str(e.data.httpStatus)} · {str(e.data.latencyMs)} ms
            </Text>
          </Group>
          <Text size="xs" className="mono">
            POST {str(e.data.url)}
          </Text>
          {e.data.reason ? (
            <Text size="sm" c="red">
              {revealInvisible(str(e.data.reason))}
            </Text>
          ) : null}
          <Spoiler maxHeight={0} showLabel={t("timeline.showRequest")} hideLabel={t("timeline.hide")}>
            <Text size="xs" fw={600}>
              {t("timeline.request")}
            </Text>
            <Code block>{JSON.stringify(e.data.request, null, 2)}</Code>
            <Text size="xs" fw={600} mt={4}>
              {t("timeline.response")}
            </Text>
            <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
              {revealInvisible(str(e.data.response))}
            </Code>
          </Spoiler>
        </Stack>
      );
    case "callback":
      return (
        <Group gap="xs">
          <StatusBadge status={str(e.data.verdict)} />
          {e.data.errorType ? <Code>{str(e.data.errorType)}</Code> : null}
          <Text size="sm">
            {t("timeline.callbackClaim", {
              status: str(e.data.status),
              amount: e.data.amount ? money(str(e.data.amount), d.currency) : "—",
            })}
          </Text>
        </Group>
      );
    case "status_change":
      return (
        <Group gap={6}>
          <StatusBadge status={str(e.data.from)} />
          <Text size="sm">→</Text>
          <StatusBadge status={str(e.data.to)} />
          <Text size="sm" c="dimmed">
            {t(`cause.${str(e.data.cause)}` as MessageKey)}
          </Text>
        </Group>
      );
    case "ledger":
      return (
        <Text size="sm">
          {t("timeline.ledger", { amount: money(str(e.data.amount), str(e.data.currency)) })}
        </Text>
      );
    case "manual":
      return (
        <Text size="sm">
          {t("timeline.manual", {
            action: t(`manualAction.${str(e.data.action)}` as MessageKey),
            comment: str(e.data.comment),
          })}
        </Text>
      );
    case "review":
      return (
        <Stack gap={0}>
          <Text size="sm">
            {e.data.resolution
              ? t("timeline.reviewResolved", {
                  reason: t(`reason.${str(e.data.reason)}` as MessageKey),
                  resolution: t(`resolution.${str(e.data.resolution)}` as MessageKey),
                  comment: str(e.data.comment),
                })
              : t("timeline.reviewOpened", { reason: t(`reason.${str(e.data.reason)}` as MessageKey) })}
          </Text>
          {e.data.requestedByName ? (
            <Text size="xs" c="dimmed" data-testid="four-eyes-people">
              {t("timeline.askedBy", { name: e.data.requestedByName })}
              {e.data.approvedByName ? `, ${t("timeline.approvedBy", { name: e.data.approvedByName })}` : ""}
            </Text>
          ) : null}
        </Stack>
      );
    case "status_query":
      return <StatusQueryBody data={e.data} />;
    default:
      // A kind this page does not know yet (a newer server): shown as it came.
      return <Code block>{JSON.stringify((e as TimelineEvent).data, null, 2)}</Code>;
  }
}

/**
 * An API-3 status query (the status-query engine's `status_query` entry): what started it, the
 * schedule's step, what the PSP answered and the verdict its answer got as a callback would.
 */
function StatusQueryBody({ data }: { data: Extract<TimelineEvent, { kind: "status_query" }>["data"] }) {
  const outcome = data.outcome;
  return (
    <Stack gap={2} data-testid="status-query-event">
      <Group gap="xs">
        <Badge
          color={outcome === "found" ? "teal" : outcome === "not_found" ? "orange" : "red"}
          variant="light"
        >
          {t(`statusQueryOutcome.${outcome}`)}
        </Badge>
        <Text size="sm">
          {t(`statusQueryTrigger.${data.trigger}`)}
          {typeof data.step === "number"
            ? ` · ${t("timeline.statusQueryStep", { step: data.step + 1 })}`
            : ""}
        </Text>
        {data.verdict ? <StatusBadge status={str(data.verdict)} /> : null}
      </Group>
      {data.reason ? (
        <Text size="sm" c="dimmed">
          {revealInvisible(str(data.reason))}
        </Text>
      ) : null}
    </Stack>
  );
}

const KIND_COLORS: Record<string, string> = {
  created: "gray",
  api1_call: "blue",
  callback: "violet",
  status_change: "brand",
  ledger: "teal",
  manual: "orange",
  review: "orange",
  status_query: "cyan",
};

export function DepositDetailPage() {
  const { id } = useParams();
  const { can } = useStaff();
  const q = useQuery(() => api.GET("/api/admin/deposits/{id}", { params: { path: { id: id ?? "" } } }), [id]);
  const d = q.data;

  if (q.loading && !d) return <PageLoader />;
  if (q.error || !d) return <ErrorAlert error={q.error} />;

  const open = d.status === "pending" || d.status === "processing";
  // The credit (and its ledger entry) is in the account currency when a quote converts it.
  const { creditCurrency, quote } = d;
  const resolve = (action: "approve" | "reject") =>
    openCommentModal({
      title: t(action === "approve" ? "deposit.approveTitle" : "deposit.rejectTitle", { orderNo: d.orderNo }),
      text:
        action === "approve" ? (
          <Stack gap="xs">
            <Text size="sm">{t("deposit.approveText", { credit: money(d.credit, creditCurrency) })}</Text>
            <CreditFigures
              currency={d.currency}
              ordered={d.amount}
              orderedFee={d.fee}
              paid={d.paidAmount}
              fee={d.fee}
              credit={d.credit}
              creditCurrency={creditCurrency}
            />
            {d.paidAmount !== null && d.paidAmount !== d.amount ? (
              <Alert color="orange" data-testid="approve-paid-differs">
                {t("deposit.approvePaidDiffers", {
                  paid: money(d.paidAmount, d.currency),
                  ordered: money(d.amount, d.currency),
                })}
              </Alert>
            ) : null}
          </Stack>
        ) : (
          t("deposit.rejectText", { credit: money(d.credit, creditCurrency) })
        ),
      confirmLabel: t(action === "approve" ? "deposit.approve" : "deposit.reject"),
      color: action === "approve" ? "teal" : "red",
      onConfirm: async (comment) => {
        await api.POST(
          action === "approve" ? "/api/admin/deposits/{id}/approve" : "/api/admin/deposits/{id}/reject",
          { params: { path: { id: d.id } }, body: { comment } },
        );
        notifySuccess(
          t(action === "approve" ? "deposit.approved" : "deposit.rejected", { orderNo: d.orderNo }),
        );
        await q.reload();
      },
    });

  const paymentUrl = safePaymentUrl(d.paymentUrl);

  return (
    <>
      <PageHeader
        title={
          <Group gap="sm" component="span">
            <span>{t("deposit.detailTitle", { orderNo: d.orderNo })}</span>
            <StatusBadge status={d.status} />
          </Group>
        }
        description={
          <Anchor component={Link} to="/deposits" size="sm">
            ← {t("deposit.back")}
          </Anchor>
        }
        actions={
          open && can("deposits:resolve") ? (
            <>
              <Button color="teal" onClick={() => resolve("approve")}>
                {t("deposit.approve")}
              </Button>
              <Button color="red" variant="light" onClick={() => resolve("reject")}>
                {t("deposit.reject")}
              </Button>
            </>
          ) : null
        }
      />
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <Card>
              <SimpleGrid cols={2} spacing="sm" verticalSpacing="sm">
                <Fact label={t("field.client")}>
                  <Anchor component={Link} to={`/clients/${d.clientId}`}>
                    {d.clientName ?? d.clientId}
                  </Anchor>
                </Fact>
                <Fact label={t("field.method")}>{d.methodName ?? "—"}</Fact>
                <Fact label={t("field.amount")}>
                  <span className="num">{money(d.amount, d.currency)}</span>
                </Fact>
                <Fact label={t("field.fee")}>
                  <span className="num">{money(d.fee, d.currency)}</span>
                </Fact>
                {/* Only a succeeded deposit credited anything; an open one will on success. */}
                <Fact label={d.status === "succeeded" ? t("field.credit") : t("deposit.creditOnSuccess")}>
                  <span className="num" data-testid="deposit-credit">
                    {open || d.status === "succeeded" ? money(d.credit, creditCurrency) : "—"}
                  </span>
                </Fact>
                <Fact label={t("deposit.paid")}>
                  <span className="num">{money(d.paidAmount, d.currency)}</span>
                </Fact>
                <Fact label={t("field.integration")}>
                  <Anchor component={Link} to={`/integrations/${d.integrationId}`}>
                    {d.integrationName ?? d.integrationId}
                  </Anchor>
                </Fact>
                <Fact label={t("deposit.transactionId")}>
                  <span className="mono">{d.transactionId ?? "—"}</span>
                </Fact>
                <Fact label={t("field.created")}>{dateTime(d.createdAt)}</Fact>
                <Fact label={t("deposit.expires")}>{dateTime(d.expiresAt)}</Fact>
                <Fact label={t("deposit.finalized")}>{dateTime(d.finalizedAt)}</Fact>
                <Fact label={t("deposit.device")}>
                  {d.device ?? "—"} · {d.language ?? "—"}
                </Fact>
              </SimpleGrid>
              {paymentUrl ? (
                <Stack gap={0} mt="sm">
                  <Fact label={t("deposit.paymentUrl")}>
                    <Anchor
                      href={paymentUrl}
                      target="_blank"
                      rel="noopener noreferrer"
                      className="mono"
                      size="sm"
                    >
                      {paymentUrl}
                    </Anchor>
                  </Fact>
                </Stack>
              ) : null}
            </Card>
            {quote ? <QuoteCard quote={quote} /> : null}
            {d.failureReason || d.failureMessage ? (
              <Alert
                color={d.status === "failed" ? "red" : "gray"}
                variant="light"
                title={d.status === "succeeded" ? t("deposit.earlierFailure") : t("deposit.failure")}
                data-testid="deposit-failure"
              >
                <Stack gap={4}>
                  <Text size="sm">
                    {t("deposit.failureReason")}: <span className="mono">{d.failureReason ?? "—"}</span>
                  </Text>
                  <Text size="sm">
                    {t("deposit.failureShown")}: {d.failureMessage ?? "—"}
                  </Text>
                </Stack>
              </Alert>
            ) : null}
            <Card>
              <Title order={5} mb="xs">
                {t("deposit.fields")}
              </Title>
              {d.enteredFields.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("common.none")}
                </Text>
              ) : (
                <Stack gap={4} data-testid="deposit-fields">
                  {d.enteredFields.map((f) => (
                    <Text size="sm" key={f.key} title={f.key}>
                      <b>{f.label}</b>: {f.value}
                    </Text>
                  ))}
                </Stack>
              )}
            </Card>
            <Card>
              <Title order={5} mb="xs">
                {t("deposit.ledger")}
              </Title>
              {d.ledgerEntry ? (
                <Text size="sm" data-testid="ledger-entry">
                  {t("deposit.ledgerEntry", {
                    amount: money(d.ledgerEntry.amount, creditCurrency),
                    at: dateTime(d.ledgerEntry.createdAt),
                  })}
                </Text>
              ) : (
                <Text size="sm" c="dimmed">
                  {t("deposit.noLedger")}
                </Text>
              )}
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="md">
            <Card data-testid="timeline">
              <Title order={4} mb="md">
                {t("deposit.timeline")}
              </Title>
              <Timeline bulletSize={14} lineWidth={2} active={d.timeline.length}>
                {d.timeline.map((e) => (
                  <Timeline.Item
                    key={e.id}
                    color={KIND_COLORS[e.kind] ?? "gray"}
                    data-kind={e.kind}
                    title={
                      <Group gap="xs" justify="space-between">
                        <Text size="sm" fw={600}>
                          {t(`event.${e.kind}` as MessageKey)}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {dateTimeSeconds(e.createdAt)}
                        </Text>
                      </Group>
                    }
                  >
                    <EventBody e={e} d={d} />
                  </Timeline.Item>
                ))}
              </Timeline>
            </Card>
            <Card data-testid="deposit-callbacks">
              <Title order={5} mb="xs">
                {t("deposit.callbacks")}
              </Title>
              {d.callbacks.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("callbacks.empty")}
                </Text>
              ) : (
                <Stack gap="xs">
                  {d.callbacks.map((c) => (
                    <Stack key={c.id} gap={2}>
                      <Group gap="xs">
                        <StatusBadge status={c.verdict} />
                        {c.source === "status_query" ? (
                          <Badge color="cyan" variant="light">
                            {t("source.status_query")}
                          </Badge>
                        ) : null}
                        {c.errorType ? <Code>{c.errorType}</Code> : null}
                        <Text size="xs" c="dimmed">
                          HTTP {c.httpStatus} · {dateTimeSeconds(c.createdAt)}
                        </Text>
                      </Group>
                      <Code block style={{ whiteSpace: "pre-wrap", wordBreak: "break-all" }}>
                        {c.rawBody}
                      </Code>
                    </Stack>
                  ))}
                </Stack>
              )}
            </Card>
            <Card data-testid="deposit-webhooks">
              <Title order={5} mb="xs">
                {t("webhooks.deposit.title")}
              </Title>
              {d.webhooks.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("webhooks.deposit.empty")}
                </Text>
              ) : (
                <Stack gap={4}>
                  {d.webhooks.map((w) => (
                    <Group key={`${w.eventId}:${w.endpointId}`} gap="xs" wrap="nowrap">
                      <StatusBadge status={w.status} />
                      <Text size="sm" className="mono">
                        #{w.sequence} {w.type}
                      </Text>
                      <Anchor
                        component={Link}
                        to={`/webhooks/${w.endpointId}`}
                        size="xs"
                        style={{ wordBreak: "break-all" }}
                      >
                        {w.endpointUrl}
                      </Anchor>
                      <Text size="xs" c="dimmed" className="num">
                        {t("webhooks.attempts24h", { n: w.attempts })}
                        {w.lastHttpStatus !== null ? ` · HTTP ${w.lastHttpStatus}` : ""}
                      </Text>
                    </Group>
                  ))}
                </Stack>
              )}
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
