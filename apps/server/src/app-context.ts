import type { Logger } from "pino";
import { type Config, missingKeyRefusal } from "./config/config.js";
import { loadOrCreateKeyFile, SecretBox } from "./infra/crypto/secret-box.js";
import { type DatabaseHandle, type Db, openDatabase } from "./infra/db/database.js";
import { createLogger } from "./infra/observability/logger.js";
import { createMetrics, type Metrics } from "./infra/observability/metrics.js";
import { type Clock, systemClock } from "./shared/clock.js";

/**
 * Everything a use-case may depend on, built once per process and passed explicitly.
 * Tests build their own with a fresh database and, where they need one, a fixed clock.
 */
export interface AppContext {
  config: Config;
  /** Knows its dialect (`dialectOf`): repositories choose their SQL by it, use-cases never do. */
  db: Db;
  secretBox: SecretBox;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  close(): Promise<void>;
}

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
  return {
    config,
    db: handle.db,
    secretBox: secretBoxFor(config),
    clock: overrides.clock ?? systemClock,
    logger,
    metrics: createMetrics(),
    close: () => handle.close(),
  };
}

/**
 * ENCRYPTION_KEY (and ENCRYPTION_KEY_PREVIOUS); without it, the key file in DATA_DIR on SQLite.
 * On PostgreSQL a key file would be this process's own, and what it sealed no other process
 * could open (issue 14 item 10): the box then refuses, and `serve` does not start at all.
 */
function secretBoxFor(config: Config): SecretBox {
  if (config.encryptionKey) return new SecretBox(config.encryptionKey, config.previousEncryptionKey);
  if (config.database.kind === "postgres")
    return SecretBox.keyless(missingKeyRefusal(config) ?? "ENCRYPTION_KEY is required on PostgreSQL");
  return new SecretBox(loadOrCreateKeyFile(config.dataDir));
}
