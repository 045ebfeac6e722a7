import { AppShell, Container, Group, Tabs, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { useLocation, useNavigate } from "react-router";
import { t } from "../i18n/index.js";
import { useSession } from "../lib/session.js";
import { LogoutButton } from "../ui/header-account.js";
import { LanguageSwitcher } from "../ui/language-switcher.js";
import type { ClientMe } from "./types.js";

const TABS = [
  { value: "/", label: "nav.wallets" },
  { value: "/deposit", label: "nav.deposit" },
  { value: "/withdraw", label: "nav.withdraw" },
  { value: "/history", label: "nav.history" },
] as const;

export function PortalLayout({ children }: { children: ReactNode }) {
  const { session, logout } = useSession<ClientMe>();
  const location = useLocation();
  const navigate = useNavigate();
  const current =
    location.pathname === "/"
      ? "/"
      : location.pathname.startsWith("/deposit") && !location.pathname.startsWith("/deposits")
        ? "/deposit"
        : location.pathname.startsWith("/history") || location.pathname.startsWith("/deposits")
          ? "/history"
          : location.pathname.startsWith("/withdraw")
            ? "/withdraw"
            : null;

  return (
    <AppShell header={{ height: 104 }} padding="md">
      <AppShell.Header>
        <Container size="sm" h={56} px="md">
          <Group h="100%" justify="space-between" wrap="nowrap">
            <div style={{ minWidth: 0 }}>
              <Title order={4} c="brand.8" lineClamp={1}>
                {session?.me.tenant.name ?? t("app.portalTitle")}
              </Title>
              <Text size="xs" c="dimmed" lineClamp={1} data-testid="client-name">
                {session?.me.name}
              </Text>
            </div>
            <Group gap={4} wrap="nowrap" style={{ flexShrink: 0 }}>
              <LanguageSwitcher />
              <LogoutButton onLogout={logout} testId="logout" />
            </Group>
          </Group>
        </Container>
        <Container size="sm" px="md">
          <Tabs value={current} onChange={(v) => v && navigate(v)} variant="default">
            <Tabs.List grow>
              {TABS.map((tab) => (
                <Tabs.Tab key={tab.value} value={tab.value}>
                  {t(tab.label)}
                </Tabs.Tab>
              ))}
            </Tabs.List>
          </Tabs>
        </Container>
      </AppShell.Header>
      <AppShell.Main>
        {/* 688 = the header's 720 less its padding, so header and content line up. */}
        <Container size={688} px={0}>
          {children}
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}
