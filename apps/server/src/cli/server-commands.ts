import { createAppContext } from "../app-context.js";
import { type Config, ConfigError, isProduction, loadConfig, missingKeyRefusal } from "../config/config.js";
import { dialectOf, migrateToLatest } from "../infra/db/database.js";
import { startServer } from "../main.js";
import { createTenant, createUser } from "../modules/tenants/create-tenant.js";
import { type Command, requireString, UsageError } from "./command.js";

const d = (description: string) => ({ type: "string" as const, description });

/** Runs fn with an app context on the configured database, closing it afterwards. */
async function withContext<T>(fn: (ctx: ReturnType<typeof createAppContext>) => Promise<T>): Promise<T> {
  const ctx = createAppContext(loadConfig());
  try {
    await migrateToLatest(ctx.db);
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/**
 * What `serve` logs as warnings at start-up: a key file inside DATA_DIR (it must stay out of
 * the data directory's backups) and an open /metrics in production (config.ts isProduction).
 */
export function serveWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (!config.encryptionKey)
    warnings.push(
      `the encryption key is the file ${config.dataDir}/secret.key, inside the data directory: keep it out of backups of DATA_DIR, or set ENCRYPTION_KEY (README: Keys and backups)`,
    );
  if (isProduction(config) && !config.metricsToken)
    warnings.push(
      "METRICS_TOKEN is not set: /metrics (counts of every tenant) answers anyone who can reach this server",
    );
  return warnings;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "start the server (configuration from the environment, see README)",
  usage: "serve",
  options: {},
  async run() {
    const config = loadConfig();
    const refusal = missingKeyRefusal(config);
    if (refusal) throw new ConfigError(refusal);
    const server = await startServer(config, { handleSignals: true });
    for (const w of serveWarnings(config)) server.ctx.logger.warn(w);
    console.log(`psphub listening on ${server.url} (${dialectOf(server.ctx.db)})`);
    await new Promise(() => {});
    return 0;
  },
};

export const migrateCommand: Command = {
  name: "migrate",
  summary: "apply pending database migrations",
  usage: "migrate",
  options: {},
  async run() {
    const ctx = createAppContext(loadConfig());
    try {
      const applied = await migrateToLatest(ctx.db);
      console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
    } finally {
      await ctx.close();
    }
    return 0;
  },
};

export const tenantCreateCommand: Command = {
  name: "tenant create",
  summary: "create a tenant with its first owner",
  usage:
    "tenant create --slug acme --name 'Acme Ltd' --owner-email a@acme.test --owner-password '…' [--owner-name N]",
  options: {
    slug: d("tenant slug (portal login uses it)"),
    name: d("display name"),
    "owner-email": d("the first owner's email"),
    "owner-password": d("the first owner's password (10+ characters)"),
    "owner-name": d("the first owner's name (default: Owner)"),
  },
  async run(v) {
    const r = await withContext((ctx) =>
      createTenant(ctx, {
        slug: requireString(v, "slug"),
        name: requireString(v, "name"),
        owner: {
          email: requireString(v, "owner-email"),
          password: requireString(v, "owner-password"),
          name: typeof v["owner-name"] === "string" ? v["owner-name"] : "Owner",
        },
      }),
    );
    console.log(JSON.stringify(r, null, 2));
    return 0;
  },
};

export const userCreateCommand: Command = {
  name: "user create",
  summary: "create a back-office user in a tenant",
  usage: "user create --tenant acme --email u@acme.test --password '…' --role admin [--name N]",
  options: {
    tenant: d("tenant slug"),
    email: d(
      "the user's email, unique within the tenant (the same person may be staff at several tenants; the back-office login then opens the oldest of their accounts, or the one whose company code, the tenant slug, is given)",
    ),
    password: d("password (10+ characters)"),
    role: d("owner | admin | finance | viewer"),
    name: d("display name"),
  },
  async run(v) {
    const r = await withContext(async (ctx) => {
      const slug = requireString(v, "tenant");
      const t = await ctx.db.selectFrom("tenants").select("id").where("slug", "=", slug).executeTakeFirst();
      if (!t) throw new UsageError(`no tenant with slug ${slug}`);
      return createUser(ctx, t.id, {
        email: requireString(v, "email"),
        password: requireString(v, "password"),
        role: requireString(v, "role") as "admin",
        name: typeof v.name === "string" ? v.name : requireString(v, "email"),
      });
    });
    console.log(JSON.stringify(r, null, 2));
    return 0;
  },
};

export { withContext };
