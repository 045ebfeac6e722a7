import { Alert, Badge, Button, Group, Stack, Text, TextInput, Tooltip } from "@mantine/core";
import { modals } from "@mantine/modals";
import { useState } from "react";
import { type MessageKey, t } from "../i18n/index.js";
import { dateTime } from "../lib/format.js";
import { money } from "../lib/money.js";
import { openCommentModal } from "../ui/comment-modal.js";
import { notifyError, notifySuccess, statusLabel } from "../ui/feedback.js";
import { monoInput } from "../ui/theme.js";
import { api } from "./api.js";
import type { ReviewItem } from "./types.js";

type Assistance = NonNullable<ReviewItem["assistance"]>;

/** Why the status queries left the order unresolved, and what they last saw. */
export function AssistanceSummary({ a }: { a: Assistance }) {
  return (
    <Stack gap={0} data-testid="assistance-why">
      <Text size="sm">{t(`review.why.${a.why}` as MessageKey)}</Text>
      <Text size="xs" c="dimmed">
        {t("review.queries", { count: a.queries, outcome: a.lastOutcome ?? "—" })}
      </Text>
    </Stack>
  );
}

/** The four-eyes rule as it applies to crediting this item. */
function fourEyesText(item: ReviewItem, a: Assistance): string {
  return a.fourEyesLimit === null
    ? t("review.fourEyesAlways", { currency: item.deposit.currency })
    : t("review.fourEyesAbove", { limit: money(a.fourEyesLimit, item.deposit.currency) });
}

export function CreditCell({ item }: { item: ReviewItem }) {
  const a = item.assistance;
  if (!a) return null;
  return (
    <Stack gap={2} align="flex-end" data-testid="review-credit">
      <span className="num">
        {money(item.approval?.credit ?? item.deposit.credit, item.deposit.currency)}
      </span>
      {a.creditNeedsApproval ? (
        <Tooltip label={fourEyesText(item, a)} multiline w={260}>
          <Badge
            color="orange"
            variant="light"
            size="sm"
            tt="none"
            h="auto"
            styles={{ label: { whiteSpace: "normal", textAlign: "end" } }}
            data-testid="needs-second-approver"
          >
            {t("review.needsSecondApprover")}
          </Badge>
        </Tooltip>
      ) : null}
    </Stack>
  );
}

/** The optional paid amount of a credit, kept where the dialog's confirm reads it. */
function PaidAmountInput(props: { currency: string; store: { value: string } }) {
  const [value, setValue] = useState("");
  return (
    <TextInput
      label={t("review.paidAmount")}
      description={t("review.paidAmountHint")}
      inputMode="decimal"
      styles={monoInput}
      rightSection={<Text size="xs">{props.currency}</Text>}
      rightSectionWidth={56}
      value={value}
      onChange={(e) => {
        setValue(e.currentTarget.value);
        props.store.value = e.currentTarget.value;
      }}
    />
  );
}

/**
 * What a person may do with a needs-assistance item: check the status now, keep waiting, mark it
 * failed or credit it; a credit awaiting a second admin shows who asked, with approve and decline
 * for anyone else (the requester sees them disabled, with why).
 */
export function AssistanceActions(props: {
  item: ReviewItem;
  meId: string | null;
  onDone: () => Promise<void>;
}) {
  const { item, meId, onDone } = props;
  const [checking, setChecking] = useState(false);
  const a = item.assistance;
  if (!a) return null;
  const orderNo = item.deposit.orderNo;
  const approval = item.approval;

  if (approval) {
    const own = approval.requestedBy.id === meId;
    const decide = (action: "approve" | "decline") =>
      openCommentModal({
        title: t(action === "approve" ? "review.approveTitle" : "review.declineTitle", { orderNo }),
        text:
          action === "approve"
            ? t("review.approveText", {
                credit: money(approval.credit, item.deposit.currency),
                name: approval.requestedBy.name,
              })
            : t("review.declineText"),
        confirmLabel: t(action === "approve" ? "review.approve" : "review.decline"),
        color: action === "approve" ? "teal" : "gray",
        onConfirm: async (comment) => {
          await api.POST(
            action === "approve" ? "/api/admin/review/{id}/approve" : "/api/admin/review/{id}/decline",
            {
              params: { path: { id: item.id } },
              body: { comment },
            },
          );
          notifySuccess(t(action === "approve" ? "review.resolved" : "review.declined", { orderNo }));
          await onDone();
        },
      });
    const button = (action: "approve" | "decline") => (
      <Button
        size="compact-sm"
        color={action === "approve" ? "teal" : "gray"}
        variant={action === "approve" ? "filled" : "default"}
        disabled={own}
        onClick={() => decide(action)}
      >
        {t(action === "approve" ? "review.approve" : "review.decline")}
      </Button>
    );
    return (
      <Stack gap={4} data-testid="approval">
        <Badge color="orange" variant="light">
          {t("review.awaitingApproval")}
        </Badge>
        <Text size="xs">
          {t("review.requestedBy", {
            name: approval.requestedBy.name,
            credit: money(approval.credit, item.deposit.currency),
            at: dateTime(approval.requestedAt),
            comment: approval.comment,
          })}
        </Text>
        {own ? (
          <Tooltip label={t("review.ownRequest")} multiline w={260}>
            <Group gap={4} wrap="nowrap" data-testid="own-request">
              {button("approve")}
              {button("decline")}
            </Group>
          </Tooltip>
        ) : (
          <Group gap={4} wrap="nowrap">
            {button("approve")}
            {button("decline")}
          </Group>
        )}
        {own ? (
          <Text size="xs" c="dimmed">
            {t("review.ownRequest")}
          </Text>
        ) : null}
      </Stack>
    );
  }

  // Credited meanwhile (a late callback): nothing is left to decide, the item only closes.
  if (item.deposit.status === "succeeded") {
    const dismiss = () =>
      openCommentModal({
        title: t("review.dismissTitle", { orderNo }),
        text: t("review.dismissText"),
        confirmLabel: t("review.dismiss"),
        color: "gray",
        onConfirm: async (comment) => {
          await api.POST("/api/admin/review/{id}/resolve", {
            params: { path: { id: item.id } },
            body: { action: "dismiss", comment },
          });
          notifySuccess(t("review.resolved", { orderNo }));
          await onDone();
        },
      });
    return (
      <Button size="compact-sm" variant="default" onClick={dismiss}>
        {t("review.dismiss")}
      </Button>
    );
  }

  const checkStatus = async () => {
    setChecking(true);
    try {
      const res = await api.POST("/api/admin/review/{id}/check-status", {
        params: { path: { id: item.id } },
      });
      notifySuccess(
        t("review.checked", {
          orderNo,
          outcome: `${t(`statusQueryOutcome.${res.query.outcome}`)} · ${statusLabel(res.query.depositStatus)}`,
        }),
      );
      await onDone();
    } catch (err) {
      notifyError(err);
    } finally {
      setChecking(false);
    }
  };
  const keepWaiting = () =>
    modals.openConfirmModal({
      title: t("review.keepWaitingTitle", { orderNo }),
      children: <Text size="sm">{t("review.keepWaitingText")}</Text>,
      labels: { confirm: t("review.keepWaiting"), cancel: t("common.cancel") },
      onConfirm: async () => {
        await api.POST("/api/admin/review/{id}/keep-waiting", {
          params: { path: { id: item.id } },
          body: {},
        });
        notifySuccess(t("review.resolved", { orderNo }));
        await onDone();
      },
    });
  const markFailed = () =>
    openCommentModal({
      title: t("review.markFailedTitle", { orderNo }),
      text: t("review.markFailedText"),
      confirmLabel: t("review.markFailed"),
      color: "red",
      onConfirm: async (comment) => {
        await api.POST("/api/admin/review/{id}/mark-failed", {
          params: { path: { id: item.id } },
          body: { comment },
        });
        notifySuccess(t("review.resolved", { orderNo }));
        await onDone();
      },
    });
  const credit = () => {
    const paid = { value: "" };
    openCommentModal({
      title: t("review.creditTitle", { orderNo }),
      text: (
        <Stack gap="sm">
          <Text size="sm">
            {t("review.creditAssistText", { credit: money(item.deposit.credit, item.deposit.currency) })}
          </Text>
          <Alert
            color={a.creditNeedsApproval ? "orange" : "gray"}
            variant="light"
            data-testid="four-eyes-rule"
          >
            {fourEyesText(item, a)}
          </Alert>
          <PaidAmountInput currency={item.deposit.currency} store={paid} />
        </Stack>
      ),
      confirmLabel: t("review.credit"),
      color: "teal",
      onConfirm: async (comment) => {
        const paidAmount = paid.value.trim();
        const res = await api.POST("/api/admin/review/{id}/credit", {
          params: { path: { id: item.id } },
          body: { comment, ...(paidAmount ? { paidAmount } : {}) },
        });
        notifySuccess(
          t(res.outcome === "awaiting_approval" ? "review.requestStored" : "review.resolved", { orderNo }),
        );
        await onDone();
      },
    });
  };
  return (
    <Group gap={4} wrap="wrap" data-testid="assistance-actions">
      <Button size="compact-sm" variant="default" loading={checking} onClick={() => void checkStatus()}>
        {t("review.checkStatus")}
      </Button>
      <Button size="compact-sm" variant="default" onClick={keepWaiting}>
        {t("review.keepWaiting")}
      </Button>
      <Button size="compact-sm" variant="default" color="red" onClick={markFailed}>
        {t("review.markFailed")}
      </Button>
      <Button size="compact-sm" color="teal" onClick={credit}>
        {t("review.credit")}
      </Button>
    </Group>
  );
}
