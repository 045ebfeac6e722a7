import { z } from "zod";

// The back office's conformance runs (docs/certify.md#from-the-back-office): the admin API's shapes.

export const startRunInput = z
  .object({
    manual: z
      .boolean()
      .default(false)
      .describe("the backend has no test hooks: the run asks you to act on each test order's payment page"),
  })
  .strict();

const promptOut = z.object({
  caseId: z.string(),
  orderNo: z.string(),
  url: z.string(),
  action: z.string().describe("what to do on the payment page"),
});

export const runOut = z.object({
  id: z.string(),
  integrationId: z.string(),
  status: z.enum(["running", "finished", "interrupted"]),
  manual: z.boolean(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
  startedBy: z.string().nullable(),
  certified: z.boolean().nullable(),
  counts: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }).nullable(),
  /** Manual mode: what the admin is asked to do while the run waits. */
  prompts: z.array(promptOut),
  error: z.string().nullable(),
  /** The run's configuration is still the integration's (a certification of it would still hold). */
  currentConfig: z.boolean(),
});
export type RunView = z.output<typeof runOut>;

const exchangeOut = z.object({
  direction: z.literal("from_backend").optional(),
  request: z.object({
    method: z.literal("POST"),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    stringA: z.string().optional(),
  }),
  response: z.union([
    z.object({ status: z.number(), body: z.string(), ms: z.number() }),
    z.object({ error: z.string(), ms: z.number() }),
  ]),
});

export const reportOut = z.object({
  target: z.object({ appUrl: z.string(), merchantId: z.string() }),
  startedAt: z.number(),
  finishedAt: z.number(),
  certified: z.boolean(),
  counts: z.object({ passed: z.number(), failed: z.number(), skipped: z.number() }),
  cases: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      api: z.enum(["API-1", "API-2", "API-3", "API-4", "API-5"]),
      mandatory: z.boolean(),
      verdict: z.enum(["passed", "failed", "skipped"]),
      notApplicable: z.boolean().optional(),
      detail: z.string(),
      fix: z.string().optional(),
      exchanges: z.array(exchangeOut),
    }),
  ),
});

export const runDetailOut = runOut.extend({ report: reportOut.nullable() });
export const runListOut = z.object({ items: z.array(runOut) });

export const certificationOut = z.object({
  items: z.array(
    z.object({
      integrationId: z.string(),
      /** A run certified the integration's current configuration. */
      certified: z.boolean(),
      certifiedAt: z.number().nullable(),
      /** A run certified an earlier configuration: APP_URL or parameters changed since. */
      stale: z.boolean(),
    }),
  ),
});
