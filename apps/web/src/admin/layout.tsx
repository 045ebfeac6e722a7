import { Alert, AppShell, Badge, Burger, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ReactNode } from "react";
import { NavLink as RouterNavLink, useLocation } from "react-router";
import { type MessageKey, t } from "../i18n/index.js";
import { useSession } from "../lib/session.js";
import { HeaderAccount } from "../ui/header-account.js";
import type { Permission } from "./permissions.js";
import type { StaffMe } from "./types.js";
import { useStaff } from "./use-staff.js";

const NAV: { to: string; label: MessageKey; perm: Permission }[] = [
  { to: "/", label: "nav.dashboard", perm: "deposits:read" },
  { to: "/integrations", label: "nav.integrations", perm: "settings:read" },
  { to: "/fx", label: "fx.nav.rates", perm: "settings:read" },
  { to: "/reports/fx", label: "fx.nav.report", perm: "deposits:read" },
  { to: "/methods", label: "nav.methods", perm: "methods:read" },
  { to: "/withdrawal-methods", label: "nav.withdrawalMethods", perm: "methods:read" },
  { to: "/deposits", label: "nav.deposits", perm: "deposits:read" },
  { to: "/withdrawals", label: "nav.withdrawals", perm: "withdrawals:read" },
  { to: "/review", label: "nav.review", perm: "deposits:read" },
  { to: "/settings/four-eyes", label: "nav.fourEyes", perm: "settings:write" },
  { to: "/alerts", label: "nav.alerts", perm: "settings:read" },
  { to: "/webhooks", label: "webhooks.nav", perm: "settings:read" },
  { to: "/clients", label: "nav.clients", perm: "clients:read" },
  { to: "/audit", label: "nav.audit", perm: "audit:read" },
  { to: "/users", label: "nav.users", perm: "users:manage" },
];

export function AdminLayout({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const { logout } = useSession<StaffMe>();
  const { me, can } = useStaff();
  const location = useLocation();

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
              {t("app.adminTitle")}
            </Title>
            <Text c="dimmed" size="sm" visibleFrom="xs">
              {me?.tenant.name}
            </Text>
          </Group>
          <HeaderAccount name={me?.name} email={me?.email} onLogout={logout}>
            <Badge variant="light" data-testid="me-role">
              {me ? t(`role.${me.role}`) : ""}
            </Badge>
          </HeaderAccount>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("nav.main")}>
        {NAV.filter((n) => can(n.perm)).map((n) => (
          <NavLink
            key={n.to}
            component={RouterNavLink}
            to={n.to}
            end={n.to === "/"}
            label={t(n.label)}
            active={location.pathname === n.to || location.pathname.startsWith(`${n.to}/`)}
            onClick={close}
            style={{ borderRadius: 8 }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        {me?.tenant.suspended ? (
          <Alert color="red" variant="light" mb="md" data-testid="suspended-banner">
            {t("admin.suspendedBanner")}
          </Alert>
        ) : null}
        <div style={{ maxWidth: 1200, margin: "0 auto" }}>{children}</div>
      </AppShell.Main>
    </AppShell>
  );
}
