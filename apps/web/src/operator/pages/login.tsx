import { Navigate, useSearchParams } from "react-router";
import { t } from "../../i18n/index.js";
import { safeNext } from "../../lib/safe-next.js";
import { useSession } from "../../lib/session.js";
import { PageLoader } from "../../ui/feedback.js";
import { LoginCard } from "../../ui/login-card.js";
import type { OperatorLogin, OperatorMe } from "../types.js";

export function OperatorLoginPage() {
  const { status, login, notice } = useSession<OperatorMe, OperatorLogin>();
  const [params] = useSearchParams();
  if (status === "loading") return <PageLoader />;
  if (status === "in") return <Navigate to={safeNext(params.get("next"), "/")} replace />;
  return (
    <LoginCard
      title="Platform console"
      subtitle="For the operators of this psphub installation"
      notice={notice}
      fields={[
        { name: "email", label: t("field.email"), type: "email", autoComplete: "username" },
        { name: "password", label: t("field.password"), type: "password", autoComplete: "current-password" },
      ]}
      onSubmit={(v) => login({ email: v.email ?? "", password: v.password ?? "" })}
    />
  );
}
