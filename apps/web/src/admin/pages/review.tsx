import { Anchor, Badge, Button, Group, Paper, SegmentedControl, Select, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { type MessageKey, t } from "../../i18n/index.js";
import { dateTime } from "../../lib/format.js";
import { money } from "../../lib/money.js";
import { useQuery } from "../../lib/use-api-query.js";
import { openCommentModal } from "../../ui/comment-modal.js";
import { DataTable, serverPaged } from "../../ui/data-table.js";
import { ErrorAlert, notifySuccess, StatusBadge } from "../../ui/feedback.js";
import { PageHeader } from "../../ui/page-header.js";
import { api } from "../api.js";
import { AssistanceActions, AssistanceSummary, CreditCell } from "../assistance-actions.js";
import { CreditFigures } from "../credit-figures.js";
import type { ReviewItem } from "../types.js";
import { useStaff } from "../use-staff.js";

const PAGE_SIZE = 25;
const REASONS = ["late_success", "conflict", "amount_mismatch", "needs_assistance"] as const;
type Reason = (typeof REASONS)[number];
const isReason = (v: string | null): v is Reason => REASONS.includes(v as Reason);

/**
 * Callbacks that could not be applied automatically, and orders the status queries left
 * unresolved (needs assistance), each resolved once by a person. `?reason=` opens a filtered
 * queue (links from elsewhere).
 */
export function ReviewPage() {
  const { can, me } = useStaff();
  const [params] = useSearchParams();
  const [status, setStatus] = useState<"open" | "resolved" | "all">("open");
  const initial = params.get("reason");
  const [reason, setReason] = useState<Reason | null>(isReason(initial) ? initial : null);
  const [page, setPage] = useState(1);
  const q = useQuery(
    () =>
      api.GET("/api/admin/review", {
        params: {
          query: {
            status: status === "all" ? undefined : status,
            reason: reason ?? undefined,
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
          },
        },
      }),
    [status, reason, page],
  );

  const counts = q.data?.counts ?? {};
  const resolve = (
    item: ReviewItem & { claim: NonNullable<ReviewItem["claim"]> },
    action: "credit" | "dismiss",
  ) =>
    openCommentModal({
      title: t(action === "credit" ? "review.creditTitle" : "review.dismissTitle", {
        orderNo: item.deposit.orderNo,
      }),
      text:
        action === "credit" ? (
          <Stack gap="xs">
            <Text size="sm">
              {t("review.creditText", { credit: money(item.claim.credit, item.deposit.currency) })}
            </Text>
            <CreditFigures
              currency={item.deposit.currency}
              ordered={item.deposit.amount}
              orderedFee={item.deposit.fee}
              paid={item.claim.paidAmount}
              fee={item.claim.fee}
              credit={item.claim.credit}
            />
          </Stack>
        ) : (
          t("review.dismissText")
        ),
      confirmLabel: t(action === "credit" ? "review.credit" : "review.dismiss"),
      color: action === "credit" ? "teal" : "gray",
      onConfirm: async (comment) => {
        await api.POST("/api/admin/review/{id}/resolve", {
          params: { path: { id: item.id } },
          body: { action, comment },
        });
        notifySuccess(t("review.resolved", { orderNo: item.deposit.orderNo }));
        await q.reload();
      },
    });

  return (
    <>
      <PageHeader title={t("review.title")} description={t("review.description")} />
      <Group mb="md" align="flex-end" gap="sm">
        <SegmentedControl
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            setPage(1);
          }}
          data={[
            { value: "open", label: t("status.open") },
            { value: "resolved", label: t("status.resolved") },
            { value: "all", label: t("common.all") },
          ]}
        />
        <Select
          placeholder={t("review.allReasons")}
          clearable
          data={REASONS.map((r) => ({
            value: r,
            label: counts[r] ? `${t(`reason.${r}`)} (${counts[r]})` : t(`reason.${r}`),
          }))}
          value={reason}
          onChange={(v) => {
            setReason(isReason(v) ? v : null);
            setPage(1);
          }}
          w={320}
          aria-label={t("review.reason")}
        />
        <Button
          variant={reason === "needs_assistance" ? "filled" : "light"}
          color="orange"
          aria-pressed={reason === "needs_assistance"}
          data-testid="filter-needs-assistance"
          rightSection={
            <Badge
              size="sm"
              color="orange"
              variant={reason === "needs_assistance" ? "white" : "filled"}
              circle
            >
              {counts.needs_assistance ?? 0}
            </Badge>
          }
          onClick={() => {
            setReason(reason === "needs_assistance" ? null : "needs_assistance");
            setPage(1);
          }}
        >
          {t("review.needsAssistance")}
        </Button>
      </Group>
      <ErrorAlert error={q.error} />
      <Paper withBorder p="sm">
        <DataTable
          testId="review-table"
          {...serverPaged(q, page, PAGE_SIZE, setPage)}
          rowKey={(r) => r.id}
          empty={t("review.empty")}
          minWidth={900}
          columns={[
            {
              key: "at",
              header: t("field.time"),
              sortValue: (r) => r.createdAt,
              render: (r) => <span className="num">{dateTime(r.createdAt)}</span>,
            },
            {
              key: "reason",
              header: t("review.reason"),
              render: (r) => t(`reason.${r.reason}` as MessageKey),
            },
            {
              key: "deposit",
              header: t("review.deposit"),
              render: (r) => (
                <Stack gap={0}>
                  <Anchor component={Link} to={`/deposits/${r.deposit.id}`} className="mono">
                    {r.deposit.orderNo}
                  </Anchor>
                  <Group gap={4}>
                    <StatusBadge status={r.deposit.status} />
                    <Text size="xs" c="dimmed">
                      {r.client.name}
                    </Text>
                  </Group>
                </Stack>
              ),
            },
            {
              key: "ordered",
              header: t("review.ordered"),
              align: "right",
              render: (r) => <span className="num">{money(r.deposit.amount, r.deposit.currency)}</span>,
            },
            {
              key: "claim",
              header: t("review.claim"),
              render: (r) =>
                r.assistance ? (
                  <AssistanceSummary a={r.assistance} />
                ) : r.claim ? (
                  <Stack gap={0}>
                    <Text size="sm">
                      {r.claim.status === 1 ? t("review.claimSuccess") : t("review.claimFailure")} ·{" "}
                      <span className="num">{money(r.claim.paidAmount, r.deposit.currency)}</span>
                    </Text>
                    <Text size="xs" c="dimmed" className="mono">
                      {r.claim.transactionId ?? ""}
                    </Text>
                  </Stack>
                ) : null,
            },
            {
              key: "credit",
              header: t("review.creditColumn"),
              align: "right",
              render: (r) =>
                r.assistance ? (
                  <CreditCell item={r} />
                ) : r.claim?.status === 1 ? (
                  <Stack gap={0} data-testid="review-credit">
                    <span className="num">{money(r.claim.credit, r.deposit.currency)}</span>
                    <Text size="xs" c="dimmed" className="num">
                      {t("review.feeOf", { fee: money(r.claim.fee, r.deposit.currency) })}
                    </Text>
                  </Stack>
                ) : (
                  "—"
                ),
            },
            {
              key: "resolution",
              header: t("review.resolution"),
              render: (r) =>
                r.status === "open" ? (
                  can("deposits:resolve") && r.assistance ? (
                    <AssistanceActions item={r} meId={me?.id ?? null} onDone={q.reload} />
                  ) : can("deposits:resolve") && r.claim ? (
                    <Group gap={4} wrap="nowrap">
                      {r.claim.status === 1 ? (
                        <Button
                          size="compact-sm"
                          color="teal"
                          onClick={() => r.claim && resolve({ ...r, claim: r.claim }, "credit")}
                        >
                          {t("review.credit")}
                        </Button>
                      ) : null}
                      <Button
                        size="compact-sm"
                        variant="default"
                        onClick={() => r.claim && resolve({ ...r, claim: r.claim }, "dismiss")}
                      >
                        {t("review.dismiss")}
                      </Button>
                    </Group>
                  ) : (
                    <StatusBadge status="open" />
                  )
                ) : (
                  <Stack gap={0}>
                    <Group gap={4}>
                      <StatusBadge status="resolved" />
                      <Text size="sm">{t(`resolution.${r.resolution}` as MessageKey)}</Text>
                    </Group>
                    <Text size="xs" c="dimmed">
                      {r.comment}
                    </Text>
                  </Stack>
                ),
            },
          ]}
        />
      </Paper>
    </>
  );
}
