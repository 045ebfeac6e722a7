import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";
import { type SessionCalls, SessionProvider, useSession } from "../lib/session.js";
import { PageLoader } from "../ui/feedback.js";
import { api, bindExpire } from "./api.js";
import { OperatorLayout } from "./layout.js";
import { OperatorAuditPage } from "./pages/audit.js";
import { OperatorLoginPage } from "./pages/login.js";
import { TenantsPage } from "./pages/tenants.js";
import { UnroutedCallbacksPage } from "./pages/unrouted-callbacks.js";
import type { OperatorLogin, OperatorMe } from "./types.js";

const sessionCalls: SessionCalls<OperatorMe, OperatorLogin> = {
  probe: async () => {
    const s = await api.GET("/api/platform/auth/session");
    return s.authenticated ? s : null;
  },
  login: (body) => api.POST("/api/platform/auth/login", { body }),
  logout: () => api.POST("/api/platform/auth/logout"),
};

function RequireSession() {
  const { status } = useSession<OperatorMe>();
  const location = useLocation();
  if (status === "loading") return <PageLoader />;
  if (status === "out") {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  return (
    <OperatorLayout>
      <Outlet />
    </OperatorLayout>
  );
}

const router = createBrowserRouter(
  [
    { path: "/login", element: <OperatorLoginPage /> },
    {
      element: <RequireSession />,
      children: [
        { index: true, element: <TenantsPage /> },
        { path: "callbacks", element: <UnroutedCallbacksPage /> },
        { path: "audit", element: <OperatorAuditPage /> },
        { path: "*", element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: "/operator" },
);

/**
 * The platform operator's console (operator.html, served under /operator): tenants, their
 * tiles, suspension, unrouted callbacks and the operators' audit trail. English only: the
 * operator is the platform's own staff.
 */
export function OperatorApp() {
  return (
    <SessionProvider api={api} bindExpire={bindExpire} calls={sessionCalls}>
      <RouterProvider router={router} />
    </SessionProvider>
  );
}
