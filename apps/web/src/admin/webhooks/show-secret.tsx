import { modals } from "@mantine/modals";
import { t } from "../../i18n/index.js";
import { ShownOnceSecret } from "../../ui/shown-once-secret.js";

const SECRET_MODAL = "webhook-secret";

/** An endpoint's signing secret, shown once (creation or rotation); closing the modal drops it. */
export function showWebhookSecret(secret: string, rotatedUntil: number | null = null): void {
  modals.open({
    modalId: SECRET_MODAL,
    title: t("webhooks.secret.title"),
    closeOnClickOutside: false,
    children: (
      <ShownOnceSecret
        notice={
          rotatedUntil === null
            ? t("webhooks.secret.notice")
            : t("webhooks.secret.rotatedNotice", { until: new Date(rotatedUntil).toLocaleString() })
        }
        value={secret}
        testId="webhook-secret"
        copyLabel={t("webhooks.secret.copy")}
        closeLabel={t("webhooks.secret.dismiss")}
        onClose={() => modals.close(SECRET_MODAL)}
      />
    ),
  });
}
