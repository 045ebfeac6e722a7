import { Navigate, useSearchParams } from "react-router";
import { t } from "../../i18n/index.js";
import { safeNext } from "../../lib/safe-next.js";
import { useSession } from "../../lib/session.js";
import { PageLoader } from "../../ui/feedback.js";
import { LoginCard } from "../../ui/login-card.js";
import type { StaffLogin, StaffMe } from "../types.js";

export function LoginPage() {
  const { status, login, notice } = useSession<StaffMe, StaffLogin>();
  const [params] = useSearchParams();
  if (status === "loading") return <PageLoader />;
  if (status === "in") return <Navigate to={safeNext(params.get("next"), "/integrations")} replace />;
  return (
    <LoginCard
      title={t("auth.adminTitle")}
      subtitle={t("auth.adminSubtitle")}
      notice={notice}
      fields={[
        { name: "email", label: t("field.email"), type: "email", autoComplete: "username" },
        { name: "password", label: t("field.password"), type: "password", autoComplete: "current-password" },
        // Staff e-mail is unique per tenant: one person may be staff at several. Without a code
        // the server checks only the e-mail's oldest account (login.ts), so the hint always shows.
        {
          name: "tenant",
          label: t("field.companyCode"),
          autoComplete: "organization",
          optional: true,
          description: t("auth.companyCodeHint"),
          initial: params.get("tenant") ?? "",
        },
      ]}
      onSubmit={(v) =>
        login({ email: v.email ?? "", password: v.password ?? "", ...(v.tenant ? { tenant: v.tenant } : {}) })
      }
    />
  );
}
