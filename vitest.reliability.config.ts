import { defineConfig } from "vitest/config";

// `npm run test:reliability`: the reliability suite (R1 crash, R2 two processes, R3 fuzz,
// R4 API-1 faults, R5 security, R6 first-credit race over two processes, R7 parallel logins,
// R8 slow bodies, R9 API-3 status queries over two processes and a kill -9, R10 outbound webhooks
// after a kill -9 (before sending, and while the posts hang) and over two processes, R11 payouts
// through an integration: duplicated API-5 callbacks over two processes with a kill -9 mid-storm,
// and lost API-5s settled by the payout status query across a kill -9, each payout debited once)
// against real `psphub serve` child processes on loopback, sized to finish in a few minutes on
// 2 cores (R11's second case waits out the payout job's 90 s lease). R5 also gathers the security
// matrices that live beside the server's code (RBAC, tenant isolation, CSRF, secrets, login
// limit, SSRF), run here on SQLite.
const resolve = { conditions: ["source"] };
const env = { PSPHUB_SCRYPT_N: "1024" };

export default defineConfig({
  resolve,
  test: {
    // One file at a time across both projects: the files start servers and measure latency.
    maxWorkers: 1,
    reporters: process.env.CI_JSON_REPORT
      ? ["default", ["json", { outputFile: process.env.CI_JSON_REPORT }]]
      : ["default"],
    projects: [
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "reliability",
          include: ["tests/reliability/**/*.test.ts"],
          env,
          testTimeout: 300_000,
          hookTimeout: 180_000,
          // Every file starts servers and load: one file at a time on a small machine.
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr: { resolve },
        test: {
          name: "security",
          include: [
            "apps/server/src/security/*.test.ts",
            "apps/server/src/infra/http-out/*.test.ts",
            "apps/server/src/modules/deposits/create-deposit.db.test.ts",
          ],
          env: { ...env, PSPHUB_TEST_DB: "sqlite" },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
