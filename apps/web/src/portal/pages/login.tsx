import { Box } from "@mantine/core";
import { Navigate, useSearchParams } from "react-router";
import { t } from "../../i18n/index.js";
import { safeNext } from "../../lib/safe-next.js";
import { useSession } from "../../lib/session.js";
import { PageLoader } from "../../ui/feedback.js";
import { LanguageSwitcher } from "../../ui/language-switcher.js";
import { LoginCard } from "../../ui/login-card.js";
import type { ClientLogin, ClientMe } from "../types.js";

const TENANT_KEY = "psphub.portal.tenant";

function rememberedTenant(): string {
  try {
    return localStorage.getItem(TENANT_KEY) ?? "";
  } catch {
    return "";
  }
}

export function PortalLoginPage() {
  const { status, login, notice } = useSession<ClientMe, ClientLogin>();
  const [params] = useSearchParams();
  if (status === "loading") return <PageLoader />;
  if (status === "in") return <Navigate to={safeNext(params.get("next"), "/")} replace />;
  return (
    <>
      {/* Before logging in too: a client may not read the browser's language. */}
      <Box pos="absolute" top={12} style={{ insetInlineEnd: 12 }}>
        <LanguageSwitcher />
      </Box>
      <LoginCard
        title={t("auth.portalTitle")}
        subtitle={t("auth.portalSubtitle")}
        notice={notice}
        badCredentials={t("auth.badPortalCredentials")}
        fields={[
          {
            name: "tenant",
            label: t("field.tenant"),
            autoComplete: "organization",
            initial: params.get("tenant") ?? rememberedTenant(),
          },
          { name: "email", label: t("field.email"), type: "email", autoComplete: "username" },
          {
            name: "password",
            label: t("field.password"),
            type: "password",
            autoComplete: "current-password",
          },
        ]}
        onSubmit={async (v) => {
          await login({ tenant: v.tenant ?? "", email: v.email ?? "", password: v.password ?? "" });
          try {
            localStorage.setItem(TENANT_KEY, v.tenant ?? "");
          } catch {
            // private mode: nothing to remember
          }
        }}
      />
    </>
  );
}
