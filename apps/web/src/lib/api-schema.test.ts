import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { API_SCHEMA_FILE, generateApiSchema } from "../../scripts/generate-api-schema.js";

it("api-schema.d.ts is what the server's OpenAPI document generates today", { timeout: 60_000 }, async () => {
  const committed = readFileSync(API_SCHEMA_FILE, "utf8");
  expect(
    committed,
    "apps/web/src/lib/api-schema.d.ts is stale: run `npm run generate:api` and commit the result",
  ).toBe(await generateApiSchema());
});
