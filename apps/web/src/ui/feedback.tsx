import { Alert, Badge, Center, Loader } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import type { ReactNode } from "react";
import { t } from "../i18n/index.js";
import { ApiError } from "../lib/api.js";
import { IconAlert, IconLock } from "./icons.js";

/** The readable message of an error: the server's own message, or a generic one. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "network") return t("error.network");
    if (err.status === 403 && err.code === "forbidden") return t("error.forbidden");
    if (err.status >= 500 && err.code === "internal") return t("error.server");
    return err.message;
  }
  return t("error.unexpected");
}

export function notifyError(err: unknown, title = t("error.title")): void {
  notifications.show({
    color: "red",
    title,
    message: errorMessage(err),
    autoClose: 8000,
    closeButtonProps: closeButton(),
  });
}

export function notifySuccess(message: string): void {
  notifications.show({ color: "teal", message, autoClose: 4000, closeButtonProps: closeButton() });
}

// Mantine's close button has no text of its own: without a name, screen readers announce "button".
const closeButton = () => ({ "aria-label": t("common.close") });

export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" variant="light" title={title ?? t("error.title")} icon={<IconAlert />} role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

/** Above a form the role may see but not change: its inputs are read-only (and look it). */
export function ReadOnlyNotice() {
  return (
    <Alert color="gray" variant="light" icon={<IconLock />} mb="md" data-testid="read-only-notice">
      {t("form.readOnly")}
    </Alert>
  );
}

export function PageLoader() {
  return (
    <Center py="xl">
      <Loader />
    </Center>
  );
}

const STATUS_COLORS: Record<string, string> = {
  pending: "yellow",
  processing: "blue",
  succeeded: "teal",
  failed: "red",
  expired: "gray",
  cancelled: "gray",
  accepted: "teal",
  duplicate: "gray",
  rejected: "red",
  review: "orange",
  open: "orange",
  resolved: "teal",
  enabled: "teal",
  disabled: "gray",
  delivered: "teal",
  requested: "yellow",
  approving: "orange",
  approved: "cyan",
  paying: "blue",
  paid: "teal",
};

/**
 * A coloured status word; the text comes from the i18n dictionary when there is one. It keeps
 * its full width (a narrow table cell or phone row would otherwise cut it to "SUCCEED…").
 */
export function StatusBadge({ status, children }: { status: string; children?: ReactNode }) {
  return (
    <Badge
      color={STATUS_COLORS[status] ?? "gray"}
      variant="light"
      data-status={status}
      style={{ flexShrink: 0, minWidth: "max-content" }}
    >
      {children ?? statusLabel(status)}
    </Badge>
  );
}

export function statusLabel(status: string): string {
  const key = `status.${status}` as Parameters<typeof t>[0];
  const text = t(key);
  return text === key ? status : text;
}
