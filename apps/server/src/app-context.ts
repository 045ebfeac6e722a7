import type { Logger } from "pino";
import type { Config } from "./config/config.js";
import { loadOrCreateKeyFile, SecretBox } from "./infra/crypto/secret-box.js";
import { type DatabaseHandle, type Db, type DbKind, openDatabase } from "./infra/db/database.js";
import { createLogger } from "./infra/observability/logger.js";
import { createMetrics, type Metrics } from "./infra/observability/metrics.js";
import { type Clock, systemClock } from "./shared/clock.js";

/**
 * Everything a use-case may depend on, built once per process and passed explicitly.
 * Tests build their own with a fresh database and, where they need one, a fixed clock.
 */
export interface AppContext {
  config: Config;
  db: Db;
  dbKind: DbKind;
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
  const key = config.encryptionKey ?? loadOrCreateKeyFile(config.dataDir);
  return {
    config,
    db: handle.db,
    dbKind: handle.kind,
    secretBox: new SecretBox(key),
    clock: overrides.clock ?? systemClock,
    logger,
    metrics: createMetrics(),
    close: () => handle.close(),
  };
}
