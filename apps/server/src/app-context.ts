import type { Logger } from "pino";
import { type Clock, systemClock } from "./common/clock.js";
import { type Config, missingKeyRefusal } from "./config/config.js";
import { loadOrCreateKeyFile, SecretBox } from "./infra/crypto/secret-box.js";
import { type DatabaseHandle, type Db, openDatabase } from "./infra/db/database.js";
import { createGuardedClient, type GuardedClient } from "./infra/http-out/guarded-client.js";
import { createLogger } from "./infra/observability/logger.js";
import { createMetrics, type Metrics } from "./infra/observability/metrics.js";
import { Api1Breakers } from "./modules/api1-breaker/api1-breakers.js";
import { createSessionReader, type SessionReader } from "./modules/auth/session-repo.js";
import { SessionStreams } from "./modules/auth/session-streams.js";
import { Api1TokenCache } from "./modules/deposits/api1-token-cache.js";
import { createDepositWriter, type DepositWriter } from "./modules/deposits/create-deposit-repo.js";
import { createRateLookup, type RateLookup } from "./modules/fx-rates/rate-lookup.js";
import { CallbackIntegrations } from "./modules/psp-integrations/integration-repo.js";
import { DeliveryBackpressure } from "./modules/webhooks/delivery-backpressure.js";
import { WebhookSigner } from "./modules/webhooks/webhook-signer.js";

/**
 * Everything a use-case may depend on, built once per process and passed explicitly.
 * Tests build their own with a fresh database and, where they need one, a fixed clock.
 *
 * The process state lives here too, each piece built over this context's root database or
 * key, so that two contexts in one process (a test's second "process") share none of it. Each
 * lives as long as the context; its size is bounded where it is built (docs/architecture.md,
 * "Process state").
 */
export interface AppContext {
  config: Config;
  /** Knows its dialect (`dialectOf`): repositories choose their SQL by it, use-cases never do. */
  db: Db;
  secretBox: SecretBox;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /**
   * Deposit creation's context read and two writes, group-committed (create-deposit-repo.ts):
   * three micro-batchers of at most 64 waiting items; built over `db`, it takes no transaction.
   */
  depositWriter: DepositWriter;
  /**
   * API-2's integrations by merchant_id, tokens decrypted, kept 1 s, at most 10 000; every
   * change of an integration goes through its `change` (integration-repo.ts).
   */
  callbackIntegrations: CallbackIntegrations;
  /** Plaintext API-1 tokens by ciphertext, at most 256, least recently used out first. */
  api1Tokens: Api1TokenCache;
  /** The API-1 circuit breakers: rows kept 1 s, answers counted once a second (api1-breakers.ts). */
  api1Breakers: Api1Breakers;
  /** Session lookups; on PostgreSQL a micro-batcher of at most 256 (session-repo.ts). */
  sessionReader: SessionReader;
  /** The portal's live streams per session, at most PORTAL_STREAMS_PER_SESSION each. */
  sessionStreams: SessionStreams;
  /**
   * The SSRF-guarded client for API-3 status queries (loopback and private addresses only with
   * ALLOW_PRIVATE_APP_URLS); its keep-alive pools close with the context.
   */
  httpOut: GuardedClient;
  /** Exchange rates of the tenants' sources; external ones cached per process (modules/fx-rates). */
  fxRates: RateLookup;
  /** The webhook worker's signing keys by sealed endpoint secret, at most 1 024 (webhook-signer.ts). */
  webhookSigner: WebhookSigner;
  /** Holds API-2 callbacks while this process's webhook deliveries are behind (delivery-backpressure.ts). */
  deliveryBackpressure: DeliveryBackpressure;
  close(): Promise<void>;
}

/** A lag observed longer ago than this holds no callback: the worker has stopped or is stuck. */
const BACKPRESSURE_STALE_MS = 2_000;

export function createAppContext(
  config: Config,
  overrides: {
    clock?: Clock;
    logger?: Logger;
    database?: DatabaseHandle;
    /** A server process: SQLite checkpoints in a worker thread (openDatabase). */
    backgroundCheckpoints?: boolean;
  } = {},
): AppContext {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const handle =
    overrides.database ??
    openDatabase(config, {
      backgroundCheckpoints: overrides.backgroundCheckpoints,
      onCheckpointError: (err) => logger.error({ err }, "background WAL checkpoint failed"),
    });
  const secretBox = secretBoxFor(config);
  const httpOut = createGuardedClient({ allowPrivate: config.allowPrivateAppUrls });
  const clock = overrides.clock ?? systemClock;
  const metrics = createMetrics();
  return {
    config,
    db: handle.db,
    secretBox,
    clock,
    logger,
    metrics,
    depositWriter: createDepositWriter(handle.db),
    callbackIntegrations: new CallbackIntegrations(handle.db, secretBox),
    api1Tokens: new Api1TokenCache(secretBox),
    api1Breakers: new Api1Breakers(handle.db, (err) => logger.warn({ err }, "api1 breaker could not count")),
    sessionReader: createSessionReader(handle.db),
    sessionStreams: new SessionStreams(config.portalStreamsPerSession),
    httpOut,
    fxRates: createRateLookup({ db: handle.db, secretBox, httpOut, logger }),
    webhookSigner: new WebhookSigner((sealed) => secretBox.open(sealed)),
    deliveryBackpressure: new DeliveryBackpressure({
      maxLagMs: config.webhookMaxLagMs,
      maxHoldMs: config.webhookMaxHoldMs,
      staleMs: BACKPRESSURE_STALE_MS,
      now: () => clock.now(),
      onHeld: (ms) => metrics.callbackHolds.observe(ms / 1000),
    }),
    close: async () => {
      await httpOut.close();
      await handle.close();
    },
  };
}

/**
 * ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS); without it, the key file in DATA_DIR on SQLite.
 * On PostgreSQL a key file would be this process's own, and what it sealed no other process
 * could open: the box then refuses, and `serve` does not start at all.
 */
function secretBoxFor(config: Config): SecretBox {
  if (config.encryptionKey) return new SecretBox(config.encryptionKey, config.previousEncryptionKey);
  if (config.database.kind === "postgres")
    return SecretBox.keyless(missingKeyRefusal(config) ?? "ENCRYPTION_KEY is required on PostgreSQL");
  return new SecretBox(loadOrCreateKeyFile(config.dataDir));
}
