import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AppContext } from "../../app-context.js";
import { NotFoundError } from "../../common/errors.js";
import { staffOf } from "../../http/access.js";
import { adminActorOf } from "../../http/admin-actor.js";
import { certificationStatus, getCertifyRun, listCertifyRuns } from "./certify-queries.js";
import { reportHtml } from "./certify-report-html.js";
import { certificationOut, runDetailOut, runListOut, runOut, startRunInput } from "./certify-schemas.js";
import { startCertifyRun } from "./run-certify.js";

const BASE = "/api/admin/integrations";
const idParams = z.object({ id: z.string().min(1).max(100) });
const runParams = z.object({ id: z.string().min(1).max(100), runId: z.string().min(1).max(100) });
const tags = ["certify"];
const read = { access: { staff: "settings:read" as const } };
const write = { access: { staff: "settings:write" as const } };

/** Conformance runs on an integration and its "certified" badge (docs/certify.md#from-the-back-office). */
export function certifyRoutes(app: FastifyInstance, ctx: AppContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Runs go on after their request; the app waits for them when it closes.
  const inFlight = new Set<Promise<void>>();
  app.addHook("onClose", async () => {
    await Promise.allSettled([...inFlight]);
  });

  r.get(
    `${BASE}/certification`,
    {
      config: read,
      schema: {
        tags,
        summary: "Each integration's certification (the badge)",
        response: { 200: certificationOut },
      },
    },
    async (req) => ({ items: await certificationStatus(ctx, staffOf(req).tenantId) }),
  );

  r.post(
    `${BASE}/:id/certify-runs`,
    {
      config: write,
      schema: {
        tags,
        summary: "Run the conformance suite against the integration's backend (in the background)",
        description:
          "Sends real signed API-1 (and API-3) requests for test orders marked x-psphub-test: 1; the backend's callbacks for them are answered by the suite, never applied. 409 while a run is under way.",
        params: idParams,
        body: startRunInput.nullish(),
        response: { 202: runOut },
      },
    },
    async (req, reply) => {
      const actor = adminActorOf(req);
      const started = await startCertifyRun(ctx, actor, req.params.id, { manual: req.body?.manual ?? false });
      inFlight.add(started.done);
      void started.done.finally(() => inFlight.delete(started.done));
      const { report: _none, ...view } = await getCertifyRun(
        ctx,
        actor.tenantId,
        req.params.id,
        started.run.id,
      );
      return reply.status(202).send(view);
    },
  );

  r.get(
    `${BASE}/:id/certify-runs`,
    {
      config: read,
      schema: {
        tags,
        summary: "The integration's conformance runs, newest first (50)",
        params: idParams,
        response: { 200: runListOut },
      },
    },
    async (req) => ({ items: await listCertifyRuns(ctx, staffOf(req).tenantId, req.params.id) }),
  );

  r.get(
    `${BASE}/:id/certify-runs/:runId`,
    {
      config: read,
      schema: {
        tags,
        summary: "One conformance run, with its report once finished",
        params: runParams,
        response: { 200: runDetailOut },
      },
    },
    async (req) => getCertifyRun(ctx, staffOf(req).tenantId, req.params.id, req.params.runId),
  );

  r.get(
    `${BASE}/:id/certify-runs/:runId/report.html`,
    {
      config: read,
      schema: {
        tags,
        summary: "The run's report as a page (HTML)",
        params: runParams,
        response: {
          200: {
            description: "text/html; charset=utf-8: every case, what was seen, what to fix, each exchange",
            content: { "text/html": { schema: z.string() } },
          },
        },
      },
    },
    async (req, reply) => {
      const run = await getCertifyRun(ctx, staffOf(req).tenantId, req.params.id, req.params.runId);
      if (!run.report) throw new NotFoundError("Report (the run has not finished)");
      const title = `psphub certify: ${run.certified ? "certified" : "not certified"}, ${new Date(run.startedAt).toISOString()}`;
      return reply
        .header("content-type", "text/html; charset=utf-8")
        .header(
          "content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
        )
        .header("cache-control", "no-store")
        .send(reportHtml(run.report, title));
    },
  );
}
