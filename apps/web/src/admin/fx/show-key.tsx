import { modals } from "@mantine/modals";
import { t } from "../../i18n/index.js";
import { ShownOnceSecret } from "../../ui/shown-once-secret.js";

const KEY_MODAL = "fx-source-key";

/**
 * An external rate API's generated key, shown once (creation or regeneration) for the admin to
 * set on their API: closing the modal drops it, the server keeps only its hash and last 4.
 */
export function showSourceKey(name: string, key: string): void {
  modals.open({
    modalId: KEY_MODAL,
    title: t("fx.key.title", { name }),
    closeOnClickOutside: false,
    children: (
      <ShownOnceSecret
        notice={t("fx.key.notice")}
        value={key}
        testId="fx-source-key"
        copyLabel={t("fx.key.copy")}
        closeLabel={t("fx.key.dismiss")}
        onClose={() => modals.close(KEY_MODAL)}
      />
    ),
  });
}
