import { Badge } from "@mantine/core";
import { t } from "../i18n/index.js";
import type { Client } from "./types.js";

/** Whether the client can log in to the portal: disabled wins over having a password. */
export function ClientStatusBadge({ client }: { client: Pick<Client, "disabled" | "portalAccess"> }) {
  const [state, color] = client.disabled
    ? (["disabled", "red"] as const)
    : client.portalAccess
      ? (["portal", "teal"] as const)
      : (["noPassword", "gray"] as const);
  const label = {
    disabled: t("clients.statusDisabled"),
    portal: t("clients.statusPortal"),
    noPassword: t("clients.statusNoPassword"),
  }[state];
  return (
    <Badge
      color={color}
      variant="light"
      data-status={state}
      style={{ flexShrink: 0, minWidth: "max-content" }}
    >
      {label}
    </Badge>
  );
}
