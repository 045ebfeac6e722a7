import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from "react-router";
import { type SessionCalls, SessionProvider, useSession } from "../lib/session.js";
import { PageLoader } from "../ui/feedback.js";
import { api, bindExpire } from "./api.js";
import { PortalLayout } from "./layout.js";
import { DepositPage } from "./pages/deposit.js";
import { DepositStatusPage } from "./pages/deposit-status.js";
import { HistoryPage } from "./pages/history.js";
import { PortalLoginPage } from "./pages/login.js";
import { WalletsPage } from "./pages/wallets.js";
import { WithdrawPage } from "./pages/withdraw.js";
import type { ClientLogin, ClientMe } from "./types.js";

const sessionCalls: SessionCalls<ClientMe, ClientLogin> = {
  probe: async () => {
    const s = await api.GET("/api/portal/auth/session");
    return s.authenticated ? s : null;
  },
  login: (body) => api.POST("/api/portal/auth/login", { body }),
  logout: () => api.POST("/api/portal/auth/logout"),
};

function RequireSession() {
  const { status } = useSession<ClientMe>();
  const location = useLocation();
  if (status === "loading") return <PageLoader />;
  if (status === "out") {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  return (
    <PortalLayout>
      <Outlet />
    </PortalLayout>
  );
}

const router = createBrowserRouter(
  [
    { path: "/login", element: <PortalLoginPage /> },
    {
      element: <RequireSession />,
      children: [
        { index: true, element: <WalletsPage /> },
        { path: "deposit", element: <DepositPage /> },
        { path: "deposits/:orderNo", element: <DepositStatusPage /> },
        { path: "history", element: <HistoryPage /> },
        { path: "withdraw", element: <WithdrawPage /> },
        { path: "*", element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: "/portal" },
);

export function PortalApp() {
  return (
    <SessionProvider api={api} bindExpire={bindExpire} calls={sessionCalls}>
      <RouterProvider router={router} />
    </SessionProvider>
  );
}
