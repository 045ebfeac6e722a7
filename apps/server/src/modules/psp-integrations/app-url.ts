import type { AppContext } from "../../app-context.js";
import type { FieldIssue } from "../../common/errors.js";
import { checkAppUrl } from "../../infra/http-out/address-policy.js";

/**
 * Save-time APP_URL check (docs/psp-open-api.md#app-url-rules, ours): https, no private/loopback/link-local address
 * unless the deployment allows it. Does DNS I/O: call it before opening a transaction.
 * The stored form has no trailing slash, so `{APP_URL}/pay/url` never doubles one.
 */
export async function checkedAppUrl(
  ctx: Pick<AppContext, "config">,
  text: string,
): Promise<{ ok: true; appUrl: string } | { ok: false; issue: FieldIssue }> {
  const r = await checkAppUrl(text, { allowPrivate: ctx.config.allowPrivateAppUrls });
  if (!r.ok) return { ok: false, issue: { path: "appUrl", message: `APP_URL ${r.reason}` } };
  return { ok: true, appUrl: r.url.href.replace(/\/+$/, "") };
}
