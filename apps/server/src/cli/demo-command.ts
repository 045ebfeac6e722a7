import { createServer } from "node:net";
import { resolve } from "node:path";
import { type RunningSim, type SimIntegration, startSim } from "@psphub/psp-sim";
import { type AppContext, createAppContext } from "../app-context.js";
import { AppError } from "../common/errors.js";
import { newId } from "../common/ids.js";
import { type Config, loadConfig } from "../config/config.js";
import type { AdminActor } from "../http/admin-actor.js";
import { migrateToLatest } from "../infra/db/database.js";
import { type RunningServer, startServer } from "../main.js";
import { createClient } from "../modules/clients/create-client.js";
import { createMethod } from "../modules/deposit-methods/create-method.js";
import { createOperator } from "../modules/platform/operator-auth.js";
import { createIntegration } from "../modules/psp-integrations/create-integration.js";
import { createIntegrationRepo } from "../modules/psp-integrations/integration-repo.js";
import type { IntegrationView } from "../modules/psp-integrations/integration-schemas.js";
import { integrationView } from "../modules/psp-integrations/integration-view.js";
import { listIntegrations } from "../modules/psp-integrations/list-integrations.js";
import { updateIntegration } from "../modules/psp-integrations/update-integration.js";
import { createTenant, createUser } from "../modules/tenants/create-tenant.js";
import { createEndpoint, updateEndpoint } from "../modules/webhooks/manage-endpoints.js";
import { createWithdrawalMethod } from "../modules/withdrawals/manage-withdrawal-methods.js";
import { type Command, UsageError } from "./command.js";

/** The demo's fixed names and logins (printed at start; a demo, never a production setup). */
export const DEMO = {
  tenantSlug: "demo",
  tenantName: "Demo Broker",
  ownerEmail: "owner@demo.test",
  ownerPassword: "demo-owner-password",
  adminEmail: "admin@demo.test",
  adminPassword: "demo-admin-password",
  clientEmail: "client@demo.test",
  clientPassword: "demo-client-password",
  operatorEmail: "operator@demo.test",
  operatorPassword: "demo-operator-password",
  integrationName: "Demo PSP (simulator)",
  methodName: "Card (demo)",
  fxMethodName: "SEPA transfer (EUR → USD wallet)",
  fxSourceName: "House rates",
  payoutMethodName: "Bank payout (simulator)",
  manualPayoutMethodName: "Bank transfer (paid by hand)",
  webhookDescription: "Simulator webhook receiver",
  customKey: "custom_1",
} as const;

export const DEMO_DEFAULT_PORT = 3000;
export const DEMO_DEFAULT_SIM_PORT = 4100;

export interface DemoOptions {
  /** Server port (default PORT or 3000; 0 picks a free one). */
  port?: number;
  /** Simulator port (default PSP_SIM_PORT or 4100; 0 picks a free one). */
  simPort?: number;
  /** Where both listen (default HOST or 127.0.0.1). */
  host?: string;
  /** SQLite file and key file (default DATA_DIR or ./data). */
  dataDir?: string;
  /** The environment the rest of the configuration comes from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where the simulator's log lines go (default console.log with a prefix). */
  log?: (line: string) => void;
}

export interface RunningDemo {
  url: string;
  adminUrl: string;
  portalUrl: string;
  operatorUrl: string;
  simUrl: string;
  callbackUrl: string;
  dataDir: string;
  /** True when this run created the demo tenant; false when it kept an earlier run's data. */
  seeded: boolean;
  /** Set when the integration's APP_URL was moved to this run's simulator. */
  appUrlMovedFrom: string | null;
  /** Environment variables the demo ignored (it keeps everything in the data directory). */
  ignored: string[];
  server: RunningServer;
  sim: RunningSim;
  /** Stops the simulator (cancelling scheduled callbacks), then the server. */
  stop(): Promise<void>;
}

/** A start-up failure with a message for the person running the demo. */
export class DemoError extends Error {}

const SYSTEM: AdminActor["audit"] = { type: "system", id: null };
const wildcard = (host: string) => host === "0.0.0.0" || host === "::" || host === "";
const urlHost = (host: string) => (wildcard(host) ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host);

function portOf(text: string, name: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`${name} must be a port number from 0 to 65535, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** Listens on host:port for a moment: the port it got (port 0: any free one), or the error. */
async function probe(host: string, port: number): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok, fail) => {
    srv.once("error", fail);
    srv.listen(port, host, ok);
  });
  const got = (srv.address() as { port: number }).port;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return got;
}

/** A free TCP port on host other than `not` (for port 0: the URLs must be known before anything listens). */
async function freePort(host: string, not?: number): Promise<number> {
  for (;;) {
    const port = await probe(host, 0);
    if (port !== not) return port;
  }
}

/**
 * Refuses a port something else listens on, naming the flag that changes it. Run for both ports
 * before the data directory is touched, so a busy port leaves nothing behind.
 */
async function ensureFree(host: string, port: number, flag: string): Promise<void> {
  try {
    await probe(host, port);
  } catch (err) {
    const code = (err as { code?: string } | null)?.code;
    if (code === "EADDRINUSE") throw new DemoError(`port ${port} is in use: pass ${flag} <another port>`);
    if (code === "EACCES") {
      throw new DemoError(`port ${port} needs privileges this process lacks: pass ${flag} <another port>`);
    }
    if (code === "EADDRNOTAVAIL")
      throw new DemoError(`${host} is not an address of this machine: pass --host`);
    throw err;
  }
}

const inUse = (err: unknown) => (err as { code?: string } | null)?.code === "EADDRINUSE";

/**
 * The demo's configuration: the embedded SQLite database in the data directory, loopback and
 * plain-http tenant backends allowed (ALLOW_PRIVATE_APP_URLS, ALLOW_HTTP_PAYMENT_URLS: demo only),
 * PUBLIC_BASE_URL defaulting to this server on loopback, and quiet logs unless LOG_LEVEL is set.
 */
export function demoConfig(
  env: Record<string, string | undefined>,
  o: { dataDir: string; host: string; port: number },
): { config: Config; ignored: string[] } {
  const ignored = ["DATABASE_URL", "ENCRYPTION_KEY"].filter((k) => env[k]);
  const config = loadConfig({
    ...env,
    DATABASE_URL: undefined,
    ENCRYPTION_KEY: undefined,
    DATA_DIR: o.dataDir,
    HOST: o.host,
    PORT: String(o.port),
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL || `http://${urlHost(o.host)}:${o.port}`,
    ALLOW_PRIVATE_APP_URLS: "true",
    ALLOW_HTTP_PAYMENT_URLS: "true",
    LOG_LEVEL: env.LOG_LEVEL || "warn",
  });
  return { config, ignored };
}

/** Seeds the demo tenant through the real use-cases. */
async function seed(
  ctx: AppContext,
  appUrl: string,
): Promise<{ tenantId: string; integration: IntegrationView }> {
  const { tenantId } = await createTenant(ctx, {
    slug: DEMO.tenantSlug,
    name: DEMO.tenantName,
    owner: { email: DEMO.ownerEmail, name: "Demo Owner", password: DEMO.ownerPassword },
  });
  const actor: AdminActor = { tenantId, audit: SYSTEM, ip: null };
  const integration = await createIntegration(ctx, actor, {
    name: DEMO.integrationName,
    appUrl,
    customParams: [{ key: DEMO.customKey, label: "Bank account", type: "text", required: true }],
  });
  await createMethod(ctx, actor, {
    name: DEMO.methodName,
    integrationId: integration.id,
    currencies: [
      { code: "USD", decimals: 2, min: "10", max: "5000", feePercent: "2.5", feeFixed: "0.30", feeMax: "20" },
      { code: "EUR", decimals: 2, min: "10", max: "5000", feePercent: "2.5", feeFixed: "0.25", feeMax: "20" },
    ],
    fieldLabels: { [DEMO.customKey]: "IBAN or account number" },
  });
  await seedExchangeRates(ctx, actor, integration.id);
  await seedWithdrawals(ctx, actor, integration.id);
  await createClient(
    ctx,
    tenantId,
    {
      name: "Demo Client",
      email: DEMO.clientEmail,
      password: DEMO.clientPassword,
      phone: "+1 555 0100",
      nationality: "us",
      language: "en-us",
    },
    SYSTEM,
  );
  return { tenantId, integration };
}

/**
 * Withdrawals (docs/withdrawals.md): a second approver, a method paying out through the
 * simulator after two levels (owner, then admin, or the other way round), and one that finance
 * pays by hand after one level.
 */
async function seedWithdrawals(ctx: AppContext, actor: AdminActor, integrationId: string): Promise<void> {
  await createUser(ctx, actor.tenantId, {
    email: DEMO.adminEmail,
    name: "Demo Admin",
    password: DEMO.adminPassword,
    role: "admin",
  });
  const currencies = [
    { code: "USD", decimals: 2, min: "10", max: "5000", feePercent: "0", feeFixed: "0.50", feeMax: null },
    { code: "EUR", decimals: 2, min: "10", max: "5000", feePercent: "0", feeFixed: "0.50", feeMax: null },
  ];
  const fields = [{ key: "iban", label: "IBAN", required: true }];
  await createWithdrawalMethod(ctx, actor, {
    name: DEMO.payoutMethodName,
    currencies,
    fields,
    payoutMode: "integration",
    integrationId,
    approval: { bands: [{ from: "0", levels: 2 }], autoPayout: true },
  });
  await createWithdrawalMethod(ctx, actor, {
    name: DEMO.manualPayoutMethodName,
    currencies,
    fields,
    approval: {
      bands: [
        { from: "0", levels: 1 },
        { from: "1000", levels: 2 },
      ],
    },
  });
}

/**
 * A manual rate source (EUR → USD 1.0781, markup 50 bps) and a method paying EUR into the USD
 * wallet (docs/exchange-rates.md). The source's rows are written here directly: the demo needs
 * only one fixed rate, and the sources' own use-cases (modules/fx-rates) add nothing to it.
 */
async function seedExchangeRates(ctx: AppContext, actor: AdminActor, integrationId: string): Promise<void> {
  const now = ctx.clock.now();
  const sourceId = newId();
  await ctx.db
    .insertInto("fx_sources")
    .values({
      id: sourceId,
      tenant_id: actor.tenantId,
      kind: "manual",
      name: DEMO.fxSourceName,
      url: null,
      key_enc: null,
      key_last4: null,
      timeout_ms: 3000,
      ttl_seconds: null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
  await ctx.db
    .insertInto("fx_manual_rates")
    .values({
      source_id: sourceId,
      from_currency: "EUR",
      to_currency: "USD",
      tenant_id: actor.tenantId,
      rate: "1.0781",
      markup_bps: 50,
      updated_at: now,
      updated_by: null,
    })
    .execute();
  await createMethod(ctx, actor, {
    name: DEMO.fxMethodName,
    integrationId,
    currencies: [
      {
        code: "EUR",
        decimals: 2,
        min: "10",
        max: "5000",
        feePercent: "2.5",
        feeFixed: "0",
        feeMax: null,
        conversion: {
          accountCurrency: "USD",
          accountDecimals: 2,
          rules: [{ group: null, sourceId, markupBps: 0 }],
        },
      },
    ],
    fieldLabels: { [DEMO.customKey]: "IBAN" },
  });
}

/** The demo tenant's integration: seeded on the first run, found again on later ones. */
/**
 * The demo tenant's webhook endpoint: the simulator's receiver (`POST /webhooks`, which verifies
 * and logs each event), created once and moved with the simulator's port. Returns its secret,
 * which the simulator verifies with.
 */
async function ensureDemoWebhookEndpoint(ctx: AppContext, tenantId: string, url: string): Promise<string> {
  const actor: AdminActor = { tenantId, audit: SYSTEM, ip: null };
  const row = await ctx.db
    .selectFrom("webhook_endpoints")
    .select(["id", "url", "secret_enc"])
    .where("tenant_id", "=", tenantId)
    .where("description", "=", DEMO.webhookDescription)
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  if (!row) return (await createEndpoint(ctx, actor, { url, description: DEMO.webhookDescription })).secret;
  if (row.url !== url) await updateEndpoint(ctx, actor, row.id, { url });
  return ctx.secretBox.open(row.secret_enc);
}

async function findOrSeed(
  ctx: AppContext,
  appUrl: string,
): Promise<{ seeded: boolean; tenantId: string; integration: IntegrationView }> {
  const tenant = await ctx.db
    .selectFrom("tenants")
    .select("id")
    .where("slug", "=", DEMO.tenantSlug)
    .executeTakeFirst();
  if (!tenant) {
    try {
      return { seeded: true, ...(await seed(ctx, appUrl)) };
    } catch (err) {
      const issues = err instanceof AppError ? (err.details?.issues ?? []) : [];
      const detail = [(err as Error).message, ...issues.map((i) => `${i.path}: ${i.message}`)].join("; ");
      throw new DemoError(
        `seeding the demo tenant failed (${detail}); delete ${ctx.config.dataDir} to start over`,
      );
    }
  }
  const all = await listIntegrations(ctx, tenant.id);
  const integration =
    all.find((i) => i.name === DEMO.integrationName) ?? (all.length === 1 ? all[0] : undefined);
  if (!integration) {
    throw new DemoError(
      `the demo tenant has no integration named "${DEMO.integrationName}"; delete ${ctx.config.dataDir} to start over`,
    );
  }
  return { seeded: false, tenantId: tenant.id, integration };
}

/** The demo's platform operator, created on the first run that lacks it (older data directories too). */
async function ensureDemoOperator(ctx: AppContext): Promise<void> {
  const found = await ctx.db
    .selectFrom("platform_operators")
    .select("id")
    .where("email", "=", DEMO.operatorEmail)
    .executeTakeFirst();
  if (!found)
    await createOperator(ctx, {
      email: DEMO.operatorEmail,
      name: "Demo Operator",
      password: DEMO.operatorPassword,
    });
}

/**
 * Every integration of the demo tenant as the simulator serves it: merchant_id, current token and
 * API-1 keys, read from the database on each call, so one created or rotated in the back office
 * is served at once (no reveal: nothing to audit, the demo process holds the key anyway).
 */
export async function demoSimIntegrations(
  ctx: Pick<AppContext, "db" | "clock" | "config" | "secretBox">,
  tenantId: string,
): Promise<SimIntegration[]> {
  const rows = await createIntegrationRepo(ctx.db).list(tenantId);
  const now = ctx.clock.now();
  const out: SimIntegration[] = [];
  for (const row of rows) {
    let token: string;
    try {
      token = ctx.secretBox.open(row.token_enc);
    } catch {
      continue; // sealed under a key this demo no longer has: rotating the token fixes it
    }
    const view = integrationView(row, now, ctx.config.publicBaseUrl);
    out.push({
      merchantId: row.merchant_id,
      token,
      paramConfig: view.paramConfig,
      customKeys: view.customParams.map((p) => p.key),
    });
  }
  return out;
}

/**
 * Starts the demo: checks both ports are free, migrates, seeds the demo tenant on the first run
 * (or keeps an earlier run's data) and points its integration's APP_URL at the simulator, starts
 * the server, then the simulator, which serves every integration of the demo tenant.
 */
export async function startDemo(opts: DemoOptions = {}): Promise<RunningDemo> {
  const env = opts.env ?? process.env;
  const host = opts.host ?? (env.HOST || "127.0.0.1");
  const dataDir = resolve(opts.dataDir ?? (env.DATA_DIR || "./data"));
  let port = opts.port ?? (env.PORT ? portOf(env.PORT, "PORT") : DEMO_DEFAULT_PORT);
  let simPort =
    opts.simPort ?? (env.PSP_SIM_PORT ? portOf(env.PSP_SIM_PORT, "PSP_SIM_PORT") : DEMO_DEFAULT_SIM_PORT);
  if (port !== 0 && port === simPort) {
    throw new DemoError(
      `the server and the simulator cannot share port ${port}: pass --sim-port <another port>`,
    );
  }
  await ensureFree(host, port, "--port");
  await ensureFree(host, simPort, "--sim-port");
  if (port === 0) port = await freePort(host, simPort);
  if (simPort === 0) simPort = await freePort(host, port);
  const { config, ignored } = demoConfig(env, { dataDir, host, port });
  const callbackUrl = `${config.publicBaseUrl}/api/psp`;
  const simUrl = `http://${urlHost(host)}:${simPort}`;

  const ctx = createAppContext(config);
  let appUrlMovedFrom: string | null = null;
  let found: Awaited<ReturnType<typeof findOrSeed>>;
  let webhookSecret: string;
  try {
    await migrateToLatest(ctx.db);
    found = await findOrSeed(ctx, simUrl);
    await ensureDemoOperator(ctx);
    webhookSecret = await ensureDemoWebhookEndpoint(ctx, found.tenantId, `${simUrl}/webhooks`);
    if (found.integration.appUrl !== simUrl) {
      appUrlMovedFrom = found.integration.appUrl;
      const actor: AdminActor = { tenantId: found.tenantId, audit: SYSTEM, ip: null };
      await updateIntegration(ctx, actor, found.integration.id, { appUrl: simUrl });
    }
  } finally {
    await ctx.close();
  }

  let server: RunningServer;
  try {
    server = await startServer(config);
  } catch (err) {
    // Taken since the check above (another program was quicker).
    if (inUse(err)) throw new DemoError(`port ${port} is in use: pass --port <another port>`);
    throw err;
  }
  const tenantId = found.tenantId;
  let sim: RunningSim;
  try {
    sim = await startSim({
      host,
      port: simPort,
      callbackUrl,
      integrations: () => demoSimIntegrations(server.ctx, tenantId),
      webhookSecrets: [webhookSecret],
      log: opts.log ?? ((line) => console.log(`psp-sim: ${line}`)),
    });
  } catch (err) {
    await server.stop();
    if (inUse(err)) throw new DemoError(`port ${simPort} is in use: pass --sim-port <another port>`);
    throw err;
  }
  const base = config.publicBaseUrl;
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    adminUrl: `${base}/admin/`,
    portalUrl: `${base}/portal/`,
    operatorUrl: `${base}/operator/`,
    simUrl: sim.url,
    callbackUrl,
    dataDir,
    seeded: found.seeded,
    appUrlMovedFrom,
    ignored,
    server,
    sim,
    stop() {
      stopping ??= (async () => {
        await sim.close();
        await server.stop();
      })();
      return stopping;
    },
  };
}

/** What the demo prints once it runs. */
export function demoBanner(d: RunningDemo): string {
  const lines = [
    "",
    "psphub demo: a DEMO configuration, never for production.",
    "  Tenant backends on loopback and plain-http payment pages are allowed here",
    "  (ALLOW_PRIVATE_APP_URLS=true, ALLOW_HTTP_PAYMENT_URLS=true); production keeps both off.",
    "",
    d.seeded
      ? `Seeded the demo tenant "${DEMO.tenantSlug}" (first run).`
      : `Kept the data of an earlier run (tenant "${DEMO.tenantSlug}").`,
  ];
  if (d.appUrlMovedFrom !== null && !d.seeded) {
    lines.push(`Moved the integration's APP_URL from ${d.appUrlMovedFrom} to ${d.simUrl}.`);
  }
  if (d.ignored.length > 0) {
    lines.push(`Ignored ${d.ignored.join(" and ")}: the demo keeps everything in its data directory.`);
  }
  lines.push(
    "",
    `  Back office    ${d.adminUrl}`,
    `                 log in as ${DEMO.ownerEmail} / ${DEMO.ownerPassword} (owner)`,
    `                 or ${DEMO.adminEmail} / ${DEMO.adminPassword} (admin: the second approver of withdrawals)`,
    `  Client portal  ${d.portalUrl}`,
    `                 tenant (company code) ${DEMO.tenantSlug}, log in as ${DEMO.clientEmail} / ${DEMO.clientPassword}`,
    `  Operator       ${d.operatorUrl}`,
    `                 the platform operator's console, log in as ${DEMO.operatorEmail} / ${DEMO.operatorPassword}`,
    `  Simulator      ${d.simUrl}  (the tenant backend of "${DEMO.integrationName}" and of every`,
    "                 other integration of the demo tenant whose APP_URL is this address;",
    `                 its payment page opens from a portal deposit, "Pay" credits the wallet;`,
    `                 it pays out withdrawals of "${DEMO.payoutMethodName}" once both levels approved)`,
    `  Callbacks      ${d.callbackUrl}/pay/callback  (CRM_Callback_URL + /pay/callback)`,
    `  API docs       ${d.url}/docs`,
    `  Data           ${d.dataDir}  (SQLite and the encryption key; a second run keeps it,`,
    "                 delete it to start over)",
    "",
    "Press Ctrl-C to stop the server and the simulator (graceful shutdown).",
    "",
  );
  return lines.join("\n");
}

const d = (description: string) => ({ type: "string" as const, description });

export const demoCommand: Command = {
  name: "demo",
  summary: "run a demo: seed a demo tenant on SQLite, start the server and the PSP simulator",
  usage: "demo [--port 3000] [--sim-port 4100] [--host 127.0.0.1] [--data-dir ./data]",
  options: {
    port: d(`server port (default PORT or ${DEMO_DEFAULT_PORT}; 0 = any free port)`),
    "sim-port": d(`simulator port (default PSP_SIM_PORT or ${DEMO_DEFAULT_SIM_PORT}; 0 = any free port)`),
    host: d("address both listen on (default HOST or 127.0.0.1)"),
    "data-dir": d("SQLite file and key file (default DATA_DIR or ./data)"),
  },
  async run(v) {
    const str = (name: string) => (typeof v[name] === "string" ? (v[name] as string) : undefined);
    const portText = str("port");
    const simPortText = str("sim-port");
    const opts: DemoOptions = {
      ...(portText === undefined ? {} : { port: portOf(portText, "--port") }),
      ...(simPortText === undefined ? {} : { simPort: portOf(simPortText, "--sim-port") }),
      ...(str("host") === undefined ? {} : { host: str("host") }),
      ...(str("data-dir") === undefined ? {} : { dataDir: str("data-dir") }),
    };
    let demo: RunningDemo;
    try {
      demo = await startDemo(opts);
    } catch (err) {
      if (err instanceof DemoError) {
        console.error(`psphub demo: ${err.message}`);
        return 1;
      }
      throw err;
    }
    console.log(demoBanner(demo));
    const signal = await new Promise<NodeJS.Signals>((done) => {
      const on = (s: NodeJS.Signals) => {
        process.off("SIGINT", on);
        process.off("SIGTERM", on);
        done(s);
      };
      process.on("SIGINT", on);
      process.on("SIGTERM", on);
    });
    // A second Ctrl-C while stopping ends the process at once.
    const force = () => process.exit(130);
    process.once("SIGINT", force);
    console.log(`psphub demo: ${signal}, stopping the simulator and the server…`);
    await demo.stop();
    process.off("SIGINT", force);
    console.log("psphub demo: stopped.");
    return 0;
  },
};
