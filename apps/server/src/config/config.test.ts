import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

describe("configuration from the environment", () => {
  it("defaults to the embedded SQLite file under DATA_DIR with safe settings", () => {
    const c = loadConfig({});
    expect(c.database).toEqual({ kind: "sqlite", file: "./data/psphub.sqlite" });
    expect(c.allowPrivateAppUrls).toBe(false);
    expect(c.allowHttpPaymentUrls).toBe(false);
    expect(c.tokenGraceMs).toBe(24 * 3_600_000);
    expect(c.cookieSecure).toBe(false);
    expect(c.port).toBe(3000);
  });

  it("selects PostgreSQL by DATABASE_URL and marks cookies Secure behind https", () => {
    const c = loadConfig({
      DATABASE_URL: "postgres://u@db:5432/psphub",
      PUBLIC_BASE_URL: "https://crm.example.com/",
      DB_POOL_SIZE: "20",
    });
    expect(c.database).toEqual({ kind: "postgres", url: "postgres://u@db:5432/psphub", poolSize: 20 });
    expect(c.publicBaseUrl).toBe("https://crm.example.com");
    expect(c.cookieSecure).toBe(true);
  });

  it("refuses bad values with one message naming every bad variable", () => {
    let err: unknown;
    try {
      loadConfig({
        PORT: "http",
        DATABASE_URL: "mysql://x",
        ENCRYPTION_KEY: "short",
        ALLOW_PRIVATE_APP_URLS: "maybe",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ["PORT", "DATABASE_URL", "ENCRYPTION_KEY", "ALLOW_PRIVATE_APP_URLS"])
      expect(msg).toContain(name);
  });

  it("accepts a 32-byte base64 key and treats empty variables as unset", () => {
    // Random: a repeated byte is refused as weak (key-rules.test.ts).
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + i * i) % 251)).toString("base64");
    const c = loadConfig({ ENCRYPTION_KEY: key, PORT: "" });
    expect(c.encryptionKey?.length).toBe(32);
    expect(c.port).toBe(3000);
  });
});
