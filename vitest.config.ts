import { defineConfig } from "vitest/config";

// One run covers every workspace. Storage tests (`*.db.test.ts`) run twice: once on the
// embedded SQLite default and once on PostgreSQL, selected by PSPHUB_TEST_DB.
const resolve = { conditions: ["source"] };
// Tests hash passwords with a lower scrypt cost; stored hashes carry their own parameters.
const env = { PSPHUB_SCRYPT_N: "1024" };
const db = { testTimeout: 30_000, hookTimeout: 60_000 };

export default defineConfig({
  resolve,
  test: {
    reporters: process.env.CI_JSON_REPORT
      ? ["default", ["json", { outputFile: process.env.CI_JSON_REPORT }]]
      : ["default"],
    projects: [
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "apps/*/src/**/*.test.ts"],
          exclude: ["**/*.db.test.ts", "**/node_modules/**"],
          env,
        },
      },
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "sqlite",
          include: ["apps/*/src/**/*.db.test.ts"],
          env: { ...env, PSPHUB_TEST_DB: "sqlite" },
          ...db,
        },
      },
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "postgres",
          include: ["apps/*/src/**/*.db.test.ts"],
          env: { ...env, PSPHUB_TEST_DB: "postgres" },
          ...db,
        },
      },
      {
        // Real-browser tests: the built web apps in Debian's Chromium against the real server
        // (in-process, SQLite) and a stub tenant backend on loopback. They skip themselves when
        // /usr/bin/chromium is missing; CI's .ci/run installs it first.
        resolve,
        ssr: { resolve },
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          env: { ...env, PSPHUB_TEST_DB: "sqlite" },
          globalSetup: ["tests/e2e/support/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          // One browser at a time on a small machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
