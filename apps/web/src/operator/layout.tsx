import { AppShell, Burger, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";
import { NavLink as RouterNavLink, useLocation } from "react-router";
import { t } from "../i18n/index.js";
import { useSession } from "../lib/session.js";
import { HeaderAccount } from "../ui/header-account.js";
import type { OperatorMe } from "./types.js";

const NAV = [
  { to: "/", label: "Tenants" },
  { to: "/callbacks", label: "Unrouted callbacks" },
  { to: "/audit", label: "Audit trail" },
];

export function OperatorLayout({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const { session, logout } = useSession<OperatorMe>();
  const location = useLocation();
  const me = session?.me;
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 232, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.menu")} />
            <Title order={4} c="brand.8">
              psphub
            </Title>
            <Text c="dimmed" size="sm" visibleFrom="xs">
              Platform console
            </Text>
          </Group>
          <HeaderAccount name={me?.name} email={me?.email} onLogout={logout} />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("nav.main")}>
        {NAV.map((n) => (
          <NavLink
            key={n.to}
            component={RouterNavLink}
            to={n.to}
            end={n.to === "/"}
            label={n.label}
            active={n.to === "/" ? location.pathname === "/" : location.pathname.startsWith(n.to)}
            onClick={close}
            style={{ borderRadius: 8 }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
