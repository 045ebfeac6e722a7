import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Grid,
  Group,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Timeline,
  Title,
} from "@mantine/core";
import { modals } from "@mantine/modals";
import { type ReactNode, useEffect, useState } from "react";
import { Link, useParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { ApiError } from "../../lib/api.js";
import { dateTime, dateTimeSeconds } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { openCommentModal } from "../../ui/comment-modal.js";
import { ErrorAlert, errorMessage, notifySuccess, PageLoader, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import type { AdminWithdrawalDetail } from "../types.js";
import { useStaff } from "../use-staff.js";
import {
  type ActionName,
  actionsToShow,
  eventDetails,
  eventSentence,
  eventTitle,
  payoutUnderWay,
  progressText,
  riskExplained,
  riskLabel,
  whyText,
  wordFor,
} from "../withdrawal-view-model.js";
import { AssistanceBadge } from "./withdrawals.js";

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

const EVENT_COLORS: Record<string, string> = {
  requested: "gray",
  hold_placed: "yellow",
  approved: "teal",
  rejected: "red",
  cancelled: "gray",
  hold_released: "yellow",
  paid: "teal",
  debited: "teal",
  failed: "red",
  needs_assistance: "orange",
  resolved: "teal",
};

type Detail = AdminWithdrawalDetail;

/** The rejection dialog: the internal comment, and the reason the client is shown. */
function RejectForm(props: {
  d: Detail;
  onConfirm: (comment: string, clientReason: string) => Promise<void>;
  onClose: () => void;
}) {
  const [comment, setComment] = useState("");
  const [reason, setReason] = useState("");
  const [errors, setErrors] = useState<{ comment?: string; reason?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const e = {
      comment: comment.trim() ? undefined : t("validation.required"),
      reason: reason.trim() ? undefined : t("validation.required"),
    };
    if (e.comment || e.reason) {
      setErrors(e);
      return;
    }
    setBusy(true);
    try {
      await props.onConfirm(comment.trim(), reason.trim());
      props.onClose();
    } catch (err) {
      setErrors({ form: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap="sm">
      <Text size="sm">{t("withdrawal.rejectText", { amount: money(props.d.amount, props.d.currency) })}</Text>
      <Textarea
        label={t("withdrawal.clientReason")}
        description={t("withdrawal.clientReasonHint")}
        withAsterisk
        autosize
        minRows={2}
        maxLength={500}
        value={reason}
        onChange={(e) => {
          setReason(e.currentTarget.value);
          setErrors({ ...errors, reason: undefined, form: undefined });
        }}
        error={errors.reason}
        data-autofocus
      />
      <Textarea
        label={t("field.comment")}
        description={t("withdrawal.commentHint")}
        withAsterisk
        autosize
        minRows={2}
        maxLength={1000}
        value={comment}
        onChange={(e) => {
          setComment(e.currentTarget.value);
          setErrors({ ...errors, comment: undefined, form: undefined });
        }}
        error={errors.comment}
      />
      {errors.form ? (
        <Alert color="red" variant="light" role="alert">
          {errors.form}
        </Alert>
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={props.onClose}>
          {t("common.cancel")}
        </Button>
        <Button color="red" loading={busy} onClick={() => void submit()}>
          {t("withdrawal.reject")}
        </Button>
      </Group>
    </Stack>
  );
}

/** The payout's reference (a bank transfer's id) for "Mark as paid". */
function MarkPaidForm(props: {
  d: Detail;
  onConfirm: (reference: string) => Promise<void>;
  onClose: () => void;
}) {
  const [reference, setReference] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!reference.trim()) {
      setError(t("validation.required"));
      return;
    }
    setBusy(true);
    try {
      await props.onConfirm(reference.trim());
      props.onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <Stack gap="sm">
        <Text size="sm">
          {t("withdrawal.markPaidText", {
            payout: money(props.d.payoutAmount, props.d.currency),
            amount: money(props.d.amount, props.d.currency),
          })}
        </Text>
        <TextInput
          label={t("withdrawal.reference")}
          description={t("withdrawal.referenceHint")}
          withAsterisk
          maxLength={200}
          value={reference}
          onChange={(e) => {
            setReference(e.currentTarget.value);
            setError(null);
          }}
          error={error}
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            {t("common.cancel")}
          </Button>
          <Button type="submit" color="teal" loading={busy}>
            {t("withdrawal.markPaid")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * A confirmation that calls the integration (start the payout, check it now): the button says
 * it is working while the backend is asked, and a refusal stays in the dialog.
 */
function ConfirmForm(props: {
  text: string;
  confirmLabel: string;
  color: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap="sm">
      <Text size="sm">{props.text}</Text>
      {error ? (
        <Alert color="red" variant="light" role="alert">
          {error}
        </Alert>
      ) : null}
      <Group justify="flex-end">
        <Button variant="default" onClick={props.onClose}>
          {t("common.cancel")}
        </Button>
        <Button color={props.color} loading={busy} onClick={() => void submit()} data-autofocus>
          {props.confirmLabel}
        </Button>
      </Group>
    </Stack>
  );
}

/** How often the page looks again while a payout is with the integration. */
const PAYOUT_POLL_MS = 5000;

const ACTION_LABEL: Record<ActionName, MessageKey> = {
  approve: "withdrawal.approve",
  reject: "withdrawal.reject",
  markPaid: "withdrawal.markPaid",
  startPayout: "withdrawal.startPayout",
  checkPayout: "withdrawal.checkPayout",
  markFailed: "withdrawal.markFailed",
};

const ACTION_COLOR: Record<ActionName, string> = {
  approve: "teal",
  reject: "red",
  markPaid: "teal",
  startPayout: "brand",
  checkPayout: "gray",
  markFailed: "red",
};

/**
 * One withdrawal for the people who decide and pay it: the figures, the client's wallet (balance,
 * held, available), the destination the client gave, the risk flags in words, the client's
 * recent deposits and withdrawals, the decisions so far, the timeline, and the actions this
 * person may take (a disabled one says why not).
 */
export function WithdrawalDetailPage() {
  const { id = "" } = useParams();
  const { me } = useStaff();
  const q = useQuery(() => api.GET("/api/admin/withdrawals/{id}", { params: { path: { id } } }), [id]);
  const d = q.data;
  // While the integration has the payout, its result arrives by itself (API-5, the status query,
  // the payout job): the page looks again now and then, so nobody acts on a stale state.
  const underWay = d ? payoutUnderWay(d) : false;
  const reload = q.reload;
  useEffect(() => {
    if (!underWay) return;
    const timer = setInterval(() => void reload(), PAYOUT_POLL_MS);
    return () => clearInterval(timer);
  }, [underWay, reload]);

  if (q.loading && !d) return <PageLoader />;
  if (q.error || !d) return <ErrorAlert error={q.error} />;

  const at = { path: { id: d.id } };
  /**
   * An action's answer is the withdrawal as it is now. Refused because someone acted first (409:
   * decided meanwhile, no longer open, already paid), the page reloads to show what happened.
   */
  const apply = async (call: Promise<Detail>, words: MessageKey) => {
    try {
      q.setData(await call);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) void q.reload();
      throw err;
    }
    notifySuccess(t(words, { payoutNo: d.payoutNo }));
  };

  const run = (action: ActionName) => {
    switch (action) {
      case "approve":
        return openCommentModal({
          title: t("withdrawal.approveTitle", { payoutNo: d.payoutNo, level: d.nextLevel ?? "" }),
          text: t("withdrawal.approveText", {
            level: d.nextLevel ?? "",
            of: d.levelsRequired,
            amount: money(d.amount, d.currency),
          }),
          confirmLabel: t("withdrawal.approve"),
          color: "teal",
          onConfirm: async (comment) => {
            await apply(
              api.POST("/api/admin/withdrawals/{id}/approve", { params: at, body: { comment } }),
              "withdrawal.approved",
            );
          },
        });
      case "reject": {
        const modalId = modals.open({
          title: t("withdrawal.rejectTitle", { payoutNo: d.payoutNo }),
          children: (
            <RejectForm
              d={d}
              onClose={() => modals.close(modalId)}
              onConfirm={async (comment, clientReason) => {
                await apply(
                  api.POST("/api/admin/withdrawals/{id}/reject", {
                    params: at,
                    body: { comment, clientReason },
                  }),
                  "withdrawal.rejected",
                );
              }}
            />
          ),
        });
        return;
      }
      case "markPaid": {
        const modalId = modals.open({
          title: t("withdrawal.markPaidTitle", { payoutNo: d.payoutNo }),
          children: (
            <MarkPaidForm
              d={d}
              onClose={() => modals.close(modalId)}
              onConfirm={async (reference) => {
                await apply(
                  api.POST("/api/admin/withdrawals/{id}/mark-paid", {
                    params: at,
                    body: { reference },
                  }),
                  "withdrawal.paid",
                );
              }}
            />
          ),
        });
        return;
      }
      case "markFailed":
        return openCommentModal({
          title: t("withdrawal.markFailedTitle", { payoutNo: d.payoutNo }),
          text: t("withdrawal.markFailedText", { amount: money(d.amount, d.currency) }),
          confirmLabel: t(ACTION_LABEL[action]),
          color: ACTION_COLOR[action],
          onConfirm: async (comment) => {
            await apply(
              api.POST("/api/admin/withdrawals/{id}/mark-failed", { params: at, body: { comment } }),
              "withdrawal.markedFailed",
            );
          },
        });
      case "startPayout":
      case "checkPayout": {
        const amount = money(d.payoutAmount, d.currency);
        // Checking a payout API-4 never got an answer for sends API-4 again; a paying one is asked its status.
        const text =
          action === "startPayout"
            ? t("withdrawal.startPayoutText", { amount })
            : d.status === "approved"
              ? t("withdrawal.checkPayoutResendText", { amount })
              : t("withdrawal.checkPayoutText", { amount });
        const modalId = modals.open({
          title: t(action === "startPayout" ? "withdrawal.startPayoutTitle" : "withdrawal.checkPayoutTitle", {
            payoutNo: d.payoutNo,
          }),
          children: (
            <ConfirmForm
              text={text}
              confirmLabel={t(ACTION_LABEL[action])}
              color={action === "startPayout" ? "brand" : "teal"}
              onClose={() => modals.close(modalId)}
              onConfirm={() =>
                action === "startPayout"
                  ? apply(
                      api.POST("/api/admin/withdrawals/{id}/start-payout", { params: at, body: {} }),
                      "withdrawal.payoutStarted",
                    )
                  : apply(
                      api.POST("/api/admin/withdrawals/{id}/check-payout", { params: at, body: {} }),
                      "withdrawal.checked",
                    )
              }
            />
          ),
        });
        return;
      }
    }
  };

  const shown = actionsToShow(d);
  // Who did what, by email: the deciders, and the person looking (who may have just paid it).
  const people = new Map(d.decisions.map((x) => [x.staffId, x.staffEmail ?? x.staffId]));
  if (me) people.set(me.id, me.email);

  return (
    <>
      <PageHeader
        title={
          <Group gap="sm" component="span">
            <span>{t("withdrawal.detailTitle", { payoutNo: d.payoutNo })}</span>
            <StatusBadge status={d.status} />
            <AssistanceBadge reason={d.needsAssistance} />
          </Group>
        }
        description={
          <Anchor component={Link} to="/withdrawals" size="sm">
            ← {t("withdrawal.back")}
          </Anchor>
        }
      />
      {shown.length > 0 ? (
        <Card mb="md" data-testid="withdrawal-actions">
          <Group gap="sm" align="flex-start">
            {shown.map((a) => {
              const { allowed, why } = d.actions[a];
              return (
                <Stack key={a} gap={2} maw={260}>
                  <Button
                    color={ACTION_COLOR[a]}
                    variant={a === "approve" || a === "markPaid" ? "filled" : "light"}
                    disabled={!allowed}
                    onClick={() => run(a)}
                    aria-describedby={allowed ? undefined : `why-${a}`}
                    data-action={a}
                  >
                    {t(ACTION_LABEL[a])}
                  </Button>
                  {allowed ? null : (
                    <Text size="xs" c="dimmed" id={`why-${a}`} data-testid={`why-${a}`}>
                      {whyText(why)}
                    </Text>
                  )}
                </Stack>
              );
            })}
          </Group>
        </Card>
      ) : null}
      {d.needsAssistance ? (
        <Alert
          color="red"
          variant="light"
          mb="md"
          title={t("withdrawals.needsAssistance")}
          data-testid="assistance-alert"
        >
          {d.needsAssistance === "failed_hold_kept"
            ? t("withdrawal.keptHold", { amount: money(d.amount, d.currency) })
            : wordFor("wassist.", d.needsAssistance)}
        </Alert>
      ) : null}
      {underWay ? (
        <Alert color="blue" variant="light" mb="md" data-testid="payout-under-way">
          {t("withdrawal.payoutUnderWay")}
        </Alert>
      ) : null}
      {d.status === "rejected" && d.clientReason ? (
        <Alert color="gray" variant="light" mb="md" title={t("withdrawal.clientReason")}>
          {d.clientReason}
        </Alert>
      ) : null}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="md">
            <Card data-testid="withdrawal-figures">
              <SimpleGrid cols={2} spacing="sm" verticalSpacing="sm">
                <Fact label={t("field.client")}>
                  <Anchor component={Link} to={`/clients/${d.clientId}`}>
                    {d.clientName ?? d.clientId}
                  </Anchor>
                  {d.clientEmail ? (
                    <Text size="xs" c="dimmed">
                      {d.clientEmail}
                    </Text>
                  ) : null}
                </Fact>
                <Fact label={t("field.method")}>
                  {d.methodName ?? "—"}
                  {d.payoutMode ? (
                    <Text size="xs" c="dimmed">
                      {t(`wmethods.mode.${d.payoutMode}`)}
                    </Text>
                  ) : null}
                </Fact>
                <Fact label={t("field.amount")}>
                  <span className="num" data-testid="withdrawal-amount">
                    {money(d.amount, d.currency)}
                  </span>
                </Fact>
                <Fact label={t("field.fee")}>
                  <span className="num">{money(d.fee, d.currency)}</span>
                </Fact>
                <Fact label={t("withdrawal.payoutAmount")}>
                  <span className="num" data-testid="withdrawal-payout">
                    {money(d.payoutAmount, d.currency)}
                  </span>
                </Fact>
                <Fact label={t("withdrawals.levels")}>
                  <span className="num" data-testid="level-progress">
                    {progressText(d)}
                  </span>
                  {d.nextLevel ? (
                    <Text size="xs" c="dimmed">
                      {t("withdrawal.waitingFor", { level: d.nextLevel })}
                    </Text>
                  ) : null}
                </Fact>
                <Fact label={t("field.created")}>{dateTime(d.createdAt)}</Fact>
                <Fact label={t("field.updated")}>{dateTime(d.updatedAt)}</Fact>
                {d.payoutReference ? (
                  <Fact label={t("withdrawal.reference")}>
                    <span className="mono" data-testid="payout-reference">
                      {d.payoutReference}
                    </span>
                  </Fact>
                ) : null}
                {d.transactionId ? (
                  <Fact label={t("deposit.transactionId")}>
                    <span className="mono">{d.transactionId}</span>
                  </Fact>
                ) : null}
              </SimpleGrid>
            </Card>

            <Card data-testid="withdrawal-wallet">
              <Title order={5} mb="xs">
                {t("withdrawal.wallet", { currency: d.currency })}
              </Title>
              <SimpleGrid cols={3} spacing="sm">
                <Fact label={t("field.balance")}>
                  <span className="num" data-testid="wallet-balance">
                    {money(d.wallet.balance, d.currency)}
                  </span>
                </Fact>
                <Fact label={t("wallets.held")}>
                  <span className="num" data-testid="wallet-held">
                    {money(d.wallet.held, d.currency)}
                  </span>
                </Fact>
                <Fact label={t("wallets.available")}>
                  <span className="num" data-testid="wallet-available">
                    {money(d.wallet.available, d.currency)}
                  </span>
                </Fact>
              </SimpleGrid>
            </Card>

            <Card data-testid="withdrawal-destination">
              <Title order={5} mb="xs">
                {t("withdrawal.destination")}
              </Title>
              {Object.keys(d.fields).length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("common.none")}
                </Text>
              ) : (
                <Stack gap={4}>
                  {Object.entries(d.fields).map(([key, value]) => (
                    <Text size="sm" key={key} title={key}>
                      <b>{d.fieldLabels[key] ?? key}</b>: <span className="mono">{value}</span>
                    </Text>
                  ))}
                </Stack>
              )}
            </Card>

            <Card data-testid="withdrawal-risk">
              <Title order={5} mb="xs">
                {t("withdrawal.riskTitle")}
              </Title>
              {d.riskFlags.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("withdrawal.noRisk")}
                </Text>
              ) : (
                <Stack gap="xs">
                  {d.riskFlags.map((f) => (
                    <Stack key={f} gap={0} data-flag={f}>
                      <Group gap={6}>
                        <Badge size="sm" color="orange" variant="light">
                          {riskLabel(f)}
                        </Badge>
                      </Group>
                      <Text size="sm">{riskExplained(f)}</Text>
                    </Stack>
                  ))}
                  <Text size="xs" c="dimmed">
                    {t("withdrawal.riskHint")}
                  </Text>
                </Stack>
              )}
            </Card>

            <Card data-testid="withdrawal-audit">
              <Title order={5}>{t("withdrawal.auditTitle")}</Title>
              <Text size="xs" c="dimmed" mb="xs">
                {t("withdrawal.auditHint")}
              </Text>
              <Text size="sm" fw={600}>
                {t("withdrawal.recentDeposits")}
              </Text>
              {d.recent.deposits.length === 0 ? (
                <Text size="sm" c="dimmed" mb="xs">
                  {t("common.none")}
                </Text>
              ) : (
                <Table verticalSpacing={4} mb="xs" data-testid="recent-deposits">
                  <Table.Tbody>
                    {d.recent.deposits.map((x) => (
                      <Table.Tr key={x.orderNo}>
                        <Table.Td className="mono" style={{ whiteSpace: "nowrap" }}>
                          {x.orderNo}
                        </Table.Td>
                        <Table.Td className="num" style={{ textAlign: "right" }}>
                          {money(x.amount, x.currency)}
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge status={x.status} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="xs" c="dimmed">
                            {dateTime(x.createdAt)}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
              <Text size="sm" fw={600}>
                {t("withdrawal.recentWithdrawals")}
              </Text>
              {d.recent.withdrawals.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("common.none")}
                </Text>
              ) : (
                <Table verticalSpacing={4} data-testid="recent-withdrawals">
                  <Table.Tbody>
                    {d.recent.withdrawals.map((x) => (
                      <Table.Tr key={x.id}>
                        <Table.Td>
                          <Anchor
                            component={Link}
                            to={`/withdrawals/${x.id}`}
                            className="mono"
                            size="sm"
                            style={{ whiteSpace: "nowrap" }}
                          >
                            {x.payoutNo}
                          </Anchor>
                        </Table.Td>
                        <Table.Td className="num" style={{ textAlign: "right" }}>
                          {money(x.amount, x.currency)}
                        </Table.Td>
                        <Table.Td>
                          <StatusBadge status={x.status} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="xs" c="dimmed">
                            {dateTime(x.createdAt)}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="md">
            <Card data-testid="withdrawal-decisions">
              <Title order={4} mb="sm">
                {t("withdrawal.decisions")}
              </Title>
              {d.decisions.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {t("withdrawal.noDecisions")}
                </Text>
              ) : (
                <Stack gap="xs">
                  {d.decisions.map((x) => (
                    <Stack key={x.level} gap={0} data-level={x.level}>
                      <Group gap="xs">
                        <Text size="sm" fw={600}>
                          {t("wmethods.levelN", { n: x.level })}
                        </Text>
                        <Badge size="sm" variant="light" color={x.decision === "approve" ? "teal" : "red"}>
                          {t(
                            x.decision === "approve"
                              ? "withdrawal.decision.approve"
                              : "withdrawal.decision.reject",
                          )}
                        </Badge>
                        <Text size="sm">{x.staffEmail ?? x.staffId}</Text>
                        <Text size="xs" c="dimmed">
                          {dateTimeSeconds(x.createdAt)}
                        </Text>
                      </Group>
                      <Text size="sm" c="dimmed">
                        {x.comment}
                      </Text>
                    </Stack>
                  ))}
                </Stack>
              )}
            </Card>
            <Card data-testid="timeline">
              <Title order={4} mb="md">
                {t("deposit.timeline")}
              </Title>
              <Timeline bulletSize={14} lineWidth={2} active={d.events.length}>
                {d.events.map((e) => {
                  const sentence = eventSentence(e, d, people);
                  const details = eventDetails(e);
                  return (
                    <Timeline.Item
                      key={e.id}
                      color={EVENT_COLORS[e.kind] ?? "blue"}
                      data-kind={e.kind}
                      title={
                        <Group gap="xs" justify="space-between">
                          <Text size="sm" fw={600}>
                            {eventTitle(e.kind)}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {dateTimeSeconds(e.createdAt)}
                          </Text>
                        </Group>
                      }
                    >
                      {sentence ? <Text size="sm">{sentence}</Text> : null}
                      {details.length ? (
                        <Stack gap={0}>
                          {details.map(([k, v]) => (
                            <Text size="xs" c="dimmed" key={k} style={{ wordBreak: "break-all" }}>
                              {k}: {v}
                            </Text>
                          ))}
                        </Stack>
                      ) : null}
                    </Timeline.Item>
                  );
                })}
              </Timeline>
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
    </>
  );
}
