/**
 * Opening a payment page. A tenant backend chooses the URL, so only absolute http(s) URLs are
 * ever opened or linked: `javascript:`, `data:` and every other scheme would run in or next to
 * the portal.
 */
export function safePaymentUrl(raw: unknown): string | null {
  if (typeof raw !== "string" || raw.length === 0) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
}

/**
 * Opens an empty tab synchronously inside the click handler (popup blockers allow it there,
 * not after an await), to be pointed at the payment page once the server answers.
 */
export function openPendingTab(): Window | null {
  try {
    const w = window.open("", "_blank");
    if (w) {
      try {
        w.document.title = "…";
      } catch {
        // A cross-origin-isolated opener cannot touch the new document; the tab still works.
      }
    }
    return w;
  } catch {
    return null;
  }
}

/**
 * Sends the pending tab to `url` when it is a safe payment URL. Returns whether the tab was
 * navigated; when it was not (no tab, unsafe URL), the tab is closed and the caller shows the
 * fallback link (for a safe URL) or the error (for an unsafe one).
 */
export function navigatePendingTab(tab: Window | null, rawUrl: unknown): boolean {
  const url = safePaymentUrl(rawUrl);
  if (!tab) return false;
  if (!url) {
    tab.close();
    return false;
  }
  try {
    // The payment page must not be able to script the portal through window.opener.
    tab.opener = null;
    tab.location.href = url;
    return true;
  } catch {
    tab.close();
    return false;
  }
}

export function closePendingTab(tab: Window | null): void {
  try {
    tab?.close();
  } catch {
    // already gone
  }
}
