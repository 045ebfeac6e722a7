import { randomBytes } from "node:crypto";
import { buildApp } from "../app.js";
import { createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";

/**
 * The app's OpenAPI document, as `GET /openapi.json` serves it, from an app that never listens
 * and never touches a real database (in-memory SQLite, a throwaway key). The web's API types
 * are generated from it (apps/web/scripts/generate-api-schema.ts).
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = {
    ...loadConfig({ PUBLIC_BASE_URL: "http://localhost", LOG_LEVEL: "silent" }),
    database: { kind: "sqlite" as const, file: ":memory:" },
    encryptionKey: randomBytes(32),
  };
  const ctx = createAppContext(config);
  try {
    const app = await buildApp(ctx);
    try {
      await app.ready();
      const res = await app.inject({ method: "GET", url: "/openapi.json" });
      if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
      return res.json();
    } finally {
      await app.close();
    }
  } finally {
    await ctx.close();
  }
}
