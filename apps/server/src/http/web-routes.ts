import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { AppContext } from "../app-context.js";

/**
 * Where the web build (apps/web/dist) is: WEB_DIST_DIR when set, else found by walking up from
 * this file to the repository root. This file runs from apps/server/src/http (tsx, tests) or
 * from the apps/server/dist bundle, so the walk covers both.
 */
export function webDistDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEB_DIST_DIR) return resolve(env.WEB_DIST_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "apps", "web", "package.json"))) return join(dir, "apps", "web", "dist");
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return resolve("apps", "web", "dist");
}

const APPS = [
  { prefix: "/admin", html: "admin.html" },
  { prefix: "/portal", html: "portal.html" },
  { prefix: "/operator", html: "operator.html" },
] as const;

const NOT_BUILT = (dir: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>psphub: web apps not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The web apps are not built yet</h1>
<p>Run <code>npm run build</code> at the repository root (or <code>npm start</code>, which builds first),
then reload this page.</p>
<p>Looked for the build in <code>${dir.replace(/[<>&]/g, "")}</code> (set <code>WEB_DIST_DIR</code> to change it).</p>
</body></html>`;

/**
 * Serves the web build: the back office under /admin, the client portal under /portal and the
 * platform operator's console under /operator (client-side routes fall back to their html), their shared hashed assets under
 * /assets, and `/` redirects to the back office. Without a build, the pages explain how to
 * make one (503) and every API route works as before.
 */
export async function webRoutes(app: FastifyInstance, _ctx: AppContext): Promise<void> {
  const dist = webDistDir();
  const assets = join(dist, "assets");
  // serve: false — @fastify/static's own routes cannot declare an access rule; ours do.
  await app.register(fastifyStatic, { serve: false });
  const built = () => APPS.every((a) => existsSync(join(dist, a.html)));
  const opts = { config: { access: "public" as const }, schema: { hide: true }, logLevel: "warn" as const };

  const page = (html: string) => async (_req: unknown, reply: FastifyReply) => {
    if (!built()) return reply.status(503).type("text/html; charset=utf-8").send(NOT_BUILT(dist));
    reply.header("cache-control", "no-cache");
    return reply.sendFile(html, dist, { cacheControl: false });
  };

  app.get("/", opts, async (_req, reply) => reply.redirect("/admin/"));
  for (const a of APPS) {
    app.get(a.prefix, opts, page(a.html));
    app.get(`${a.prefix}/*`, opts, page(a.html));
  }
  app.get("/assets/*", opts, async (req, reply) => {
    const file = (req.params as { "*": string })["*"];
    if (!built() || !file) {
      return reply.status(404).send({ error: { code: "not_found", message: "No such asset" } });
    }
    // Hashed file names: cache for a year, never revalidate.
    return reply.sendFile(file, assets, { immutable: true, maxAge: "365d" });
  });
}
