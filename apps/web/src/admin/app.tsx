import { lazy, type ReactNode, Suspense } from "react";
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";
import { type SessionCalls, SessionProvider, useSession } from "../lib/session.js";
import { PageLoader } from "../ui/feedback.js";
import { api, bindExpire } from "./api.js";
import { AdminLayout } from "./layout.js";
import { AlertsPage } from "./pages/alerts.js";
import { AuditPage } from "./pages/audit.js";
import { ClientDetailPage } from "./pages/client-detail.js";
import { ClientsPage } from "./pages/clients.js";
import { DepositDetailPage } from "./pages/deposit-detail.js";
import { DepositsPage } from "./pages/deposits.js";
import { FourEyesPage } from "./pages/four-eyes.js";
import { FxReportPage } from "./pages/fx-report.js";
import { FxSourceRatesPage } from "./pages/fx-source-rates.js";
import { FxSourcesPage } from "./pages/fx-sources.js";
import { IntegrationEditPage } from "./pages/integration-edit.js";
import { IntegrationsPage } from "./pages/integrations.js";
import { LoginPage } from "./pages/login.js";
import { MethodEditPage } from "./pages/method-edit.js";
import { MethodsPage } from "./pages/methods.js";
import { NotFoundPage } from "./pages/not-found.js";
import { ReviewPage } from "./pages/review.js";
import { UsersPage } from "./pages/users.js";
import { WebhookEndpointPage } from "./pages/webhook-endpoint.js";
import { WebhooksPage } from "./pages/webhooks.js";
import { WithdrawalDetailPage } from "./pages/withdrawal-detail.js";
import { WithdrawalMethodEditPage } from "./pages/withdrawal-method-edit.js";
import { WithdrawalMethodsPage } from "./pages/withdrawal-methods.js";
import { WithdrawalsPage } from "./pages/withdrawals.js";
import type { Permission } from "./permissions.js";
import { RequirePermission } from "./require-permission.js";
import type { StaffLogin, StaffMe } from "./types.js";

// The dashboard brings the charts library: loaded when it is opened, not with every page.
const DashboardPage = lazy(() => import("./pages/dashboard.js").then((m) => ({ default: m.DashboardPage })));

const sessionCalls: SessionCalls<StaffMe, StaffLogin> = {
  probe: async () => {
    const s = await api.GET("/api/auth/session");
    return s.authenticated ? s : null;
  },
  login: (body) => api.POST("/api/auth/login", { body }),
  logout: () => api.POST("/api/auth/logout"),
};

function RequireSession() {
  const { status } = useSession<StaffMe>();
  const location = useLocation();
  if (status === "loading") return <PageLoader />;
  if (status === "out") {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return (
    <AdminLayout>
      <Outlet />
    </AdminLayout>
  );
}

const only = (perm: Permission, page: ReactNode) => <RequirePermission perm={perm}>{page}</RequirePermission>;

const router = createBrowserRouter(
  [
    { path: "/login", element: <LoginPage /> },
    {
      element: <RequireSession />,
      children: [
        {
          index: true,
          element: only(
            "deposits:read",
            <Suspense fallback={<PageLoader />}>
              <DashboardPage />
            </Suspense>,
          ),
        },
        { path: "integrations", element: only("settings:read", <IntegrationsPage />) },
        { path: "integrations/new", element: only("settings:write", <IntegrationEditPage />) },
        { path: "integrations/:id", element: only("settings:read", <IntegrationEditPage />) },
        { path: "fx", element: only("settings:read", <FxSourcesPage />) },
        { path: "fx/:id", element: only("settings:read", <FxSourceRatesPage />) },
        { path: "reports/fx", element: only("deposits:read", <FxReportPage />) },
        { path: "webhooks", element: only("settings:read", <WebhooksPage />) },
        { path: "webhooks/:id", element: only("settings:read", <WebhookEndpointPage />) },
        { path: "methods", element: only("methods:read", <MethodsPage />) },
        { path: "methods/new", element: only("methods:write", <MethodEditPage />) },
        { path: "methods/:id", element: only("methods:read", <MethodEditPage />) },
        { path: "withdrawal-methods", element: only("methods:read", <WithdrawalMethodsPage />) },
        { path: "withdrawal-methods/new", element: only("methods:write", <WithdrawalMethodEditPage />) },
        { path: "withdrawal-methods/:id", element: only("methods:read", <WithdrawalMethodEditPage />) },
        { path: "deposits", element: only("deposits:read", <DepositsPage />) },
        { path: "deposits/:id", element: only("deposits:read", <DepositDetailPage />) },
        { path: "withdrawals", element: only("withdrawals:read", <WithdrawalsPage />) },
        { path: "withdrawals/:id", element: only("withdrawals:read", <WithdrawalDetailPage />) },
        { path: "review", element: only("deposits:read", <ReviewPage />) },
        { path: "settings/four-eyes", element: only("settings:write", <FourEyesPage />) },
        { path: "alerts", element: only("settings:read", <AlertsPage />) },
        { path: "clients", element: only("clients:read", <ClientsPage />) },
        { path: "clients/:id", element: only("clients:read", <ClientDetailPage />) },
        { path: "audit", element: only("audit:read", <AuditPage />) },
        { path: "users", element: only("users:manage", <UsersPage />) },
        { path: "*", element: <NotFoundPage /> },
      ],
    },
  ],
  { basename: "/admin" },
);

export function AdminApp() {
  return (
    <SessionProvider api={api} bindExpire={bindExpire} calls={sessionCalls}>
      <RouterProvider router={router} />
    </SessionProvider>
  );
}
