import { z } from "zod";
import { decodeKey, weakKeyProblem } from "./key-rules.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/**
 * scrypt's cost for new password hashes. 2^17 (with r=8, p=1: 128 MiB, OWASP's minimum for
 * scrypt) or more; less only when the process says it runs tests (NODE_ENV=test, which the test
 * runner sets), so that a production process cannot run weak hashing by a stray variable.
 */
export const SCRYPT_N_FLOOR = 2 ** 17;
const scryptN = z.coerce
  .number()
  .int()
  .min(1024)
  .max(2 ** 20)
  .refine((n) => (n & (n - 1)) === 0, "must be a power of two")
  .default(SCRYPT_N_FLOOR);
const scryptFloor = (e: { PSPHUB_SCRYPT_N: number; NODE_ENV?: string | undefined }, ctx: z.RefinementCtx) => {
  if (e.PSPHUB_SCRYPT_N < SCRYPT_N_FLOOR && e.NODE_ENV !== "test")
    ctx.addIssue({
      code: "custom",
      path: ["PSPHUB_SCRYPT_N"],
      message: `must be at least ${SCRYPT_N_FLOOR} (2^17) outside tests (NODE_ENV=test)`,
    });
};

/**
 * The scrypt cost the environment asks for, by the rules of loadConfig (throws ConfigError).
 * Read by infra/crypto/hashing.ts from the process's environment, because passwords are hashed
 * in places that have no Config (seeding, CLI); loadConfig checks the same rule at start-up.
 */
export function scryptCostFrom(env: Record<string, string | undefined>): number {
  const parsed = z
    .object({ PSPHUB_SCRYPT_N: scryptN, NODE_ENV: z.string().optional() })
    .superRefine(scryptFloor)
    .safeParse({ PSPHUB_SCRYPT_N: env.PSPHUB_SCRYPT_N || undefined, NODE_ENV: env.NODE_ENV });
  if (!parsed.success)
    throw new ConfigError(`Invalid configuration:\n  PSPHUB_SCRYPT_N: ${parsed.error.issues[0]?.message}`);
  return parsed.data.PSPHUB_SCRYPT_N;
}

/**
 * How many password hashes (scrypt, 128 MiB each at 2^17) run at once in this process, and how
 * many more may wait. scrypt runs on libuv's thread pool (4 threads by default), which dns.lookup
 * (the outbound client's resolver, infra/http-out/) and file I/O share: the cap leaves them threads.
 */
const passwordHashConcurrency = z.coerce.number().int().min(1).max(16).default(2);
const passwordHashQueueLimit = z.coerce.number().int().min(0).max(10_000).default(100);

/**
 * The password hashing limits the environment asks for, by loadConfig's rules (throws
 * ConfigError). Read by infra/crypto/hashing.ts from the process's environment, as PSPHUB_SCRYPT_N.
 */
export function passwordHashLimitsFrom(env: Record<string, string | undefined>): {
  concurrency: number;
  queueLimit: number;
} {
  const parsed = z
    .object({
      PASSWORD_HASH_CONCURRENCY: passwordHashConcurrency,
      PASSWORD_HASH_QUEUE_LIMIT: passwordHashQueueLimit,
    })
    .safeParse({
      PASSWORD_HASH_CONCURRENCY: env.PASSWORD_HASH_CONCURRENCY || undefined,
      PASSWORD_HASH_QUEUE_LIMIT: env.PASSWORD_HASH_QUEUE_LIMIT || undefined,
    });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  return {
    concurrency: parsed.data.PASSWORD_HASH_CONCURRENCY,
    queueLimit: parsed.data.PASSWORD_HASH_QUEUE_LIMIT,
  };
}

/**
 * Every setting the server reads from the environment, validated once at start-up.
 * A bad value stops the process with a message naming the variable.
 */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|sqlite:)/, "must start with postgres:// or sqlite:")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).default("http://localhost:3000"),
  ENCRYPTION_KEY: z
    .string()
    .superRefine((v, ctx) => {
      const d = decodeKey(v);
      const problem = "problem" in d ? d.problem : weakKeyProblem(d.key);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  // The key before a rotation: opens what it sealed until `psphub keys reencrypt` has run. Only
  // the format is checked, so that a key refused as weak can still be rotated away.
  ENCRYPTION_KEY_PREVIOUS: z
    .string()
    .superRefine((v, ctx) => {
      const d = decodeKey(v);
      if ("problem" in d) ctx.addIssue({ code: "custom", message: d.problem });
    })
    .optional(),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  ALLOW_PRIVATE_APP_URLS: bool.default(false),
  ALLOW_HTTP_PAYMENT_URLS: bool.default(false),
  TOKEN_GRACE_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
  SESSION_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 24 * 30)
    .default(8 * 60),
  COOKIE_SECURE: bool.optional(),
  LOGIN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(100),
  PSPHUB_SCRYPT_N: scryptN,
  PASSWORD_HASH_CONCURRENCY: passwordHashConcurrency,
  PASSWORD_HASH_QUEUE_LIMIT: passwordHashQueueLimit,
  NODE_ENV: z.string().optional(),
  DEPOSIT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  CALLBACK_BODY_LIMIT_BYTES: z.coerce.number().int().min(512).max(1_048_576).default(16_384),
  CALLBACK_REJECTIONS_PER_MINUTE_PER_ADDRESS: z.coerce.number().int().min(1).default(30),
  CALLBACK_REJECTIONS_PER_MINUTE_PER_MERCHANT: z.coerce.number().int().min(1).default(60),
  PORTAL_STREAMS_PER_SESSION: z.coerce.number().int().min(1).max(100).default(5),
  HEADERS_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
  BODY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(15),
  REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  EXPIRY_SWEEP_SECONDS: z.coerce.number().int().min(0).default(30),
  STATUS_QUERY_POLL_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  STATUS_QUERY_CONCURRENCY: z.coerce.number().int().min(0).max(1000).default(64),
  STATUS_QUERY_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(90),
  FX_QUOTE_VALIDITY_SECONDS: z.coerce.number().int().min(10).max(3600).default(120),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(0).max(600_000).default(200),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(0).max(1000).default(256),
  WEBHOOK_MAX_LAG_MS: z.coerce.number().int().min(0).max(600_000).default(100),
  WEBHOOK_MAX_HOLD_MS: z.coerce.number().int().min(0).max(30_000).default(2000),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  TRUST_PROXY: bool.default(false),
});

/** The whole request's limit contains its parts' (Node refuses headersTimeout > requestTimeout). */
function timeoutsFit(
  e: { HEADERS_TIMEOUT_SECONDS: number; BODY_TIMEOUT_SECONDS: number; REQUEST_TIMEOUT_SECONDS: number },
  ctx: z.RefinementCtx,
): void {
  for (const key of ["HEADERS_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS"] as const)
    if (e[key] > e.REQUEST_TIMEOUT_SECONDS)
      ctx.addIssue({ code: "custom", path: [key], message: "must not exceed REQUEST_TIMEOUT_SECONDS" });
}

export type Config = {
  database: { kind: "sqlite"; file: string } | { kind: "postgres"; url: string; poolSize: number };
  dataDir: string;
  host: string;
  port: number;
  publicBaseUrl: string;
  /**
   * 32-byte key for AES-256-GCM; when absent the embedded default keeps one in DATA_DIR
   * (SQLite only: on PostgreSQL secrets cannot be sealed without it, app-context.ts).
   */
  encryptionKey?: Buffer;
  /** ENCRYPTION_KEY_PREVIOUS: opens secrets sealed before a key rotation, never seals. */
  previousEncryptionKey?: Buffer;
  /** When set, /metrics answers only `Authorization: Bearer <metricsToken>` (ops-routes.ts). */
  metricsToken?: string;
  allowPrivateAppUrls: boolean;
  allowHttpPaymentUrls: boolean;
  tokenGraceMs: number;
  sessionTtlMs: number;
  cookieSecure: boolean;
  /** Login attempts per (address, account) per minute; failures only (login-throttle.ts). */
  loginRateLimitPerMinute: number;
  /** Login attempts per account across addresses per minute. */
  loginRateLimitPerAccountPerMinute: number;
  /** Login attempts per address across accounts per minute. */
  loginRateLimitPerIpPerMinute: number;
  /** New deposit orders one client may create per minute (each calls the tenant backend). */
  depositRateLimitPerMinute: number;
  callbackBodyLimit: number;
  /**
   * API-2 requests refused before the token or sign passed (callback-flood-guard.ts), per
   * source address (IPv6: per /64) and per merchant, per minute; more are answered 429.
   */
  callbackRejectionsPerMinutePerAddress: number;
  callbackRejectionsPerMinutePerMerchant: number;
  /** Live status streams (SSE) one portal session may hold open at once (session-streams.ts). */
  portalStreamsPerSession: number;
  /** Receiving a request (http/request-timeouts.ts): its headers, its body, and the whole of it. */
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  requestTimeoutMs: number;
  expirySweepMs: number;
  /**
   * API-3's worker (modules/status-query): how often it looks for due queries, and how many it
   * runs at once in this process; either 0 turns it off in this process.
   */
  statusQueryPollMs: number;
  statusQueryConcurrency: number;
  /**
   * How long a claimed query is the claiming process's: longer than any query takes (the longest
   * timeout an integration may set is 60 s), since after it another process may query again.
   */
  statusQueryLeaseMs: number;
  /** How often each process looks for due webhook deliveries; 0 turns its delivery worker off. */
  webhookPollMs: number;
  /** Webhook deliveries in flight per process at most; 0 turns its delivery worker off. */
  webhookConcurrency: number;
  /**
   * Backpressure (docs/webhooks.md#backpressure): past this delivery lag, callbacks of the tenants
   * behind wait before they are applied; 0 turns it off.
   */
  webhookMaxLagMs: number;
  /** How long backpressure holds one callback at most. */
  webhookMaxHoldMs: number;
  /** How long a deposit quote holds at most (docs/exchange-rates.md#the-quote); a rate's own validity may cut it. */
  fxQuoteValidityMs: number;
  logLevel: string;
  trustProxy: boolean;
};

export class ConfigError extends Error {}

/**
 * Production, for the start-up checks: PostgreSQL (several processes share the data) or an
 * https PUBLIC_BASE_URL (reachable by others). The demo and a local SQLite on http are not.
 */
export function isProduction(config: Pick<Config, "database" | "publicBaseUrl">): boolean {
  return config.database.kind === "postgres" || config.publicBaseUrl.startsWith("https://");
}

/**
 * Why `serve` must not start without ENCRYPTION_KEY, or null. A key file in DATA_DIR is one
 * process's own: a second process on the same PostgreSQL would make another.
 */
export function missingKeyRefusal(
  config: Pick<Config, "database" | "publicBaseUrl" | "encryptionKey">,
): string | null {
  if (config.encryptionKey || !isProduction(config)) return null;
  const why = config.database.kind === "postgres" ? "on PostgreSQL" : "with an https PUBLIC_BASE_URL";
  return `ENCRYPTION_KEY is required ${why}: every server process must seal and open the integration tokens with the same key (make one with: openssl rand -base64 32; see README, Keys and backups)`;
}

const previousKeyNeedsCurrent = (
  e: { ENCRYPTION_KEY?: string | undefined; ENCRYPTION_KEY_PREVIOUS?: string | undefined },
  ctx: z.RefinementCtx,
) => {
  if (e.ENCRYPTION_KEY_PREVIOUS && !e.ENCRYPTION_KEY)
    ctx.addIssue({
      code: "custom",
      path: ["ENCRYPTION_KEY_PREVIOUS"],
      message: "is only read with ENCRYPTION_KEY (the key secrets are sealed with now)",
    });
};

/** Parses the environment into a Config, or throws a ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema
    .superRefine(scryptFloor)
    .superRefine(timeoutsFit)
    .superRefine(previousKeyNeedsCurrent)
    .safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const url = e.DATABASE_URL;
  const database: Config["database"] =
    url && !url.startsWith("sqlite:")
      ? { kind: "postgres", url, poolSize: e.DB_POOL_SIZE }
      : { kind: "sqlite", file: url ? url.slice("sqlite:".length) : `${e.DATA_DIR}/psphub.sqlite` };
  const publicBaseUrl = e.PUBLIC_BASE_URL.replace(/\/+$/, "");
  return {
    database,
    dataDir: e.DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    publicBaseUrl,
    encryptionKey: e.ENCRYPTION_KEY ? Buffer.from(e.ENCRYPTION_KEY, "base64") : undefined,
    previousEncryptionKey: e.ENCRYPTION_KEY_PREVIOUS
      ? Buffer.from(e.ENCRYPTION_KEY_PREVIOUS, "base64")
      : undefined,
    metricsToken: e.METRICS_TOKEN,
    allowPrivateAppUrls: e.ALLOW_PRIVATE_APP_URLS,
    allowHttpPaymentUrls: e.ALLOW_HTTP_PAYMENT_URLS,
    tokenGraceMs: Math.round(e.TOKEN_GRACE_HOURS * 3_600_000),
    sessionTtlMs: e.SESSION_TTL_MINUTES * 60_000,
    cookieSecure: e.COOKIE_SECURE ?? publicBaseUrl.startsWith("https://"),
    loginRateLimitPerMinute: e.LOGIN_RATE_LIMIT_PER_MINUTE,
    loginRateLimitPerAccountPerMinute: e.LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE,
    loginRateLimitPerIpPerMinute: e.LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE,
    depositRateLimitPerMinute: e.DEPOSIT_RATE_LIMIT_PER_MINUTE,
    callbackBodyLimit: e.CALLBACK_BODY_LIMIT_BYTES,
    callbackRejectionsPerMinutePerAddress: e.CALLBACK_REJECTIONS_PER_MINUTE_PER_ADDRESS,
    callbackRejectionsPerMinutePerMerchant: e.CALLBACK_REJECTIONS_PER_MINUTE_PER_MERCHANT,
    portalStreamsPerSession: e.PORTAL_STREAMS_PER_SESSION,
    headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
    bodyTimeoutMs: e.BODY_TIMEOUT_SECONDS * 1000,
    requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
    expirySweepMs: e.EXPIRY_SWEEP_SECONDS * 1000,
    statusQueryPollMs: e.STATUS_QUERY_POLL_MS,
    statusQueryConcurrency: e.STATUS_QUERY_CONCURRENCY,
    statusQueryLeaseMs: e.STATUS_QUERY_LEASE_SECONDS * 1000,
    fxQuoteValidityMs: e.FX_QUOTE_VALIDITY_SECONDS * 1000,
    webhookPollMs: e.WEBHOOK_POLL_MS,
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    webhookMaxLagMs: e.WEBHOOK_MAX_LAG_MS,
    webhookMaxHoldMs: e.WEBHOOK_MAX_HOLD_MS,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
  };
}
