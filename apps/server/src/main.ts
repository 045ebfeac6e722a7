import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { type AppContext, createAppContext } from "./app-context.js";
import { type Config, ConfigError, SCRYPT_N_FLOOR } from "./config/config.js";
import { passwordHashCost } from "./infra/crypto/hashing.js";
import { dialectOf, migrateToLatest, openDatabase } from "./infra/db/database.js";
import { pruneLoginAttemptsJob } from "./modules/auth/login-throttle.js";
import { deleteExpiredSessionsJob } from "./modules/auth/session-repo.js";
import { expireDepositsJob } from "./modules/deposits/expire-deposits.js";
import { integrationHealthJob } from "./modules/integration-health/run-detectors.js";
import { startPayoutWorker } from "./modules/payouts/payout-worker.js";
import { deleteExpiredOperatorSessionsJob } from "./modules/platform/operator-auth.js";
import { storedTokenKeyProblem } from "./modules/psp-integrations/reencrypt-tokens.js";
import {
  type StatusQueryWorker,
  startStatusQueryWorker,
} from "./modules/status-query/status-query-worker.js";
import { DELIVERY_POOL_SIZE, startDeliveryWorker } from "./modules/webhooks/delivery-worker.js";
import { startReplayWorker } from "./modules/webhooks/replay-tasks.js";

export type BackgroundJob = (ctx: AppContext) => Promise<void>;

/** Jobs that run every EXPIRY_SWEEP_SECONDS in every process; each must be safe to run concurrently. */
export const BACKGROUND_JOBS: BackgroundJob[] = [
  expireDepositsJob,
  deleteExpiredSessionsJob,
  deleteExpiredOperatorSessionsJob,
  pruneLoginAttemptsJob,
  integrationHealthJob,
];

export type RunningServer = { app: FastifyInstance; ctx: AppContext; url: string; stop(): Promise<void> };

/**
 * Starts one server process: migrate, build the app, listen, run the periodic jobs, and shut
 * down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the pool).
 */
export async function startServer(
  config: Config,
  opts: { handleSignals?: boolean } = {},
): Promise<RunningServer> {
  const ctx = createAppContext(config, { backgroundCheckpoints: true });
  try {
    await migrateToLatest(ctx.db);
    // A wrong or lost key would answer 500 to every callback: refuse to start instead.
    const keyProblem = await storedTokenKeyProblem(ctx);
    if (keyProblem) throw new ConfigError(keyProblem);
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const app = await buildApp(ctx);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    // A busy port: close what was opened (pool, checkpoint worker), or the process never exits.
    await app.close();
    await ctx.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;

  let timer: NodeJS.Timeout | undefined;
  let running = false;
  if (config.expirySweepMs > 0 && BACKGROUND_JOBS.length > 0) {
    timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        for (const job of BACKGROUND_JOBS) await job(ctx);
      } catch (err) {
        ctx.logger.error({ err }, "background job failed");
      } finally {
        running = false;
      }
    }, config.expirySweepMs);
    timer.unref();
  }

  let worker: StatusQueryWorker | undefined;
  if (config.statusQueryPollMs > 0 && config.statusQueryConcurrency > 0)
    worker = startStatusQueryWorker(ctx, {
      pollMs: config.statusQueryPollMs,
      concurrency: config.statusQueryConcurrency,
      leaseMs: config.statusQueryLeaseMs,
    });

  // Payouts through an integration ride on the status queries' settings: the same kind of job.
  const payouts =
    config.statusQueryPollMs > 0 && config.statusQueryConcurrency > 0
      ? startPayoutWorker(ctx, {
          pollMs: config.statusQueryPollMs,
          concurrency: config.statusQueryConcurrency,
          leaseMs: config.statusQueryLeaseMs,
        })
      : undefined;

  const deliveries = config.webhookPollMs > 0 && config.webhookConcurrency > 0;
  // On PostgreSQL the delivery worker has connections of its own: its claims and records never
  // queue behind the callbacks' statements in the shared pool (bench B6).
  const webhookDb =
    deliveries && config.database.kind === "postgres"
      ? openDatabase({ database: { ...config.database, poolSize: DELIVERY_POOL_SIZE } })
      : undefined;
  const webhooks = deliveries
    ? startDeliveryWorker(
        { ...ctx, db: webhookDb?.db ?? ctx.db },
        {
          pollMs: config.webhookPollMs,
          concurrency: config.webhookConcurrency,
          backpressure: ctx.deliveryBackpressure,
        },
      )
    : undefined;
  const replays = config.webhookPollMs > 0 ? startReplayWorker(ctx, 1000) : undefined;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (timer) clearInterval(timer);
      await worker?.stop();
      await payouts?.stop();
      await webhooks?.stop();
      await webhookDb?.close();
      await replays?.stop();
      await app.close();
      await ctx.close();
    })();
    return stopping;
  };
  if (opts.handleSignals) {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      process.once(sig, () => {
        ctx.logger.info({ signal: sig }, "shutting down");
        stop().then(
          () => process.exit(0),
          (err) => {
            ctx.logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      });
    }
  }
  // Only reachable with NODE_ENV=test (config.ts): say so, in case that is not a test.
  if (passwordHashCost() < SCRYPT_N_FLOOR)
    ctx.logger.warn(
      { scryptN: passwordHashCost() },
      "PSPHUB_SCRYPT_N is below 2^17: test-only password hashing",
    );
  ctx.logger.info({ url, database: dialectOf(ctx.db) }, "psphub listening");
  return { app, ctx, url, stop };
}
