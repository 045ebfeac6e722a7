import { Button, Group, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { t } from "../i18n/index.js";
import { IconLogout } from "./icons.js";

/** The header's log-out button of every app. */
export function LogoutButton(props: { onLogout: () => Promise<void>; testId?: string }) {
  return (
    <Button
      variant="subtle"
      color="gray"
      size="compact-sm"
      leftSection={<IconLogout size={16} />}
      onClick={() => void props.onLogout()}
      data-testid={props.testId}
    >
      {t("auth.logout")}
    </Button>
  );
}

/** Who is logged in (name over e-mail), what `children` add (a role badge), and log out: the back office's and the console's header. */
export function HeaderAccount(props: {
  name: string | undefined;
  email: string | undefined;
  onLogout: () => Promise<void>;
  children?: ReactNode;
}) {
  return (
    <Group gap="sm" wrap="nowrap">
      <Stack gap={0} align="flex-end" visibleFrom="sm">
        <Text size="sm" fw={500} data-testid="me-name">
          {props.name}
        </Text>
        <Text size="xs" c="dimmed">
          {props.email}
        </Text>
      </Stack>
      {props.children}
      <LogoutButton onLogout={props.onLogout} />
    </Group>
  );
}
