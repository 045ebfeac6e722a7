import { describe, expect, it } from "vitest";
import { navigatePendingTab, safePaymentUrl } from "./payment-url.js";

describe("payment URLs", () => {
  it("accepts only absolute http(s) URLs", () => {
    expect(safePaymentUrl("https://pay.example.com/p/1?x=2")).toBe("https://pay.example.com/p/1?x=2");
    expect(safePaymentUrl("http://127.0.0.1:8080/pay")).toBe("http://127.0.0.1:8080/pay");
    for (const bad of [
      "javascript:alert(1)",
      "JAVASCRIPT:alert(1)",
      " javascript:alert(1)",
      "java\tscript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "file:///etc/passwd",
      "blob:https://x/1",
      "//evil.example.com/pay",
      "/relative/path",
      "",
      null,
      undefined,
      42,
    ]) {
      expect(safePaymentUrl(bad), String(bad)).toBeNull();
    }
  });

  it("navigates the pending tab only to a safe URL, and closes it otherwise", () => {
    const fakeTab = () => {
      const tab = { closed: false, opener: {} as unknown, location: { href: "about:blank" }, close() {} };
      tab.close = () => {
        tab.closed = true;
      };
      return tab;
    };
    const good = fakeTab();
    expect(navigatePendingTab(good as unknown as Window, "https://pay.example.com/1")).toBe(true);
    expect(good.location.href).toBe("https://pay.example.com/1");
    expect(good.opener).toBeNull();

    const bad = fakeTab();
    expect(navigatePendingTab(bad as unknown as Window, "javascript:alert(1)")).toBe(false);
    expect(bad.location.href).toBe("about:blank");
    expect(bad.closed).toBe(true);

    // Popup blocked: nothing to navigate; the caller shows the fallback link.
    expect(navigatePendingTab(null, "https://pay.example.com/1")).toBe(false);
  });
});
