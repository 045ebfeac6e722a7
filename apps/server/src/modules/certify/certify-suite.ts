import { parseFlatJson, parseStatusAnswer, signStatusQuery, stringA, verifyDetailed } from "@psphub/protocol";
import { defaultApi1ParamConfig } from "@psphub/protocol/admin";
import { buildApi1Request } from "../deposits/api1-request.js";
import { statusQueryUrl } from "../status-query/status-query-request.js";
import { API2_CASES } from "./certify-api2-cases.js";
import {
  API1_LATENCY_LIMIT_MS,
  type CaseResult,
  type CaseSpec,
  type CertifyDeps,
  type CertifyReport,
  type CertifyTarget,
  type Context,
  type Exchange,
  exchangeOf,
  failed,
  freshRequest,
  notApplicable,
  type Outcome,
  passed,
  postApi1,
  REQUEST_TIMEOUT_MS,
  refuses,
  skipped,
  testOrder,
  urlOf,
} from "./certify-case.js";
import { PAYOUT_CASES } from "./certify-payout-cases.js";

/**
 * The conformance suite a tenant backend is certified by (docs/certify.md): fixed cases run
 * against its API-1, its callbacks (API-2, when the suite has somewhere to receive them) and,
 * when enabled, API-3 and the payouts (API-4, API-5, the payout status query), with real signed
 * requests for test orders and a test payout. Each API-1 request carries
 * `x-psphub-test: 1`; the backend is expected to behave as it always does. The run needs an HTTP
 * client (the SSRF guard decides which addresses it may reach), a clock and, for API-2, an
 * inbox; every exchange is kept for the report.
 */

export type { CaseResult, CertifyDeps, CertifyReport, CertifyTarget } from "./certify-case.js";

const API1_CASES: CaseSpec[] = [
  {
    id: "api1.answer",
    title: "API-1 answers a valid request with the spec's envelope and a payment URL",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const orderNo = ctx.deps.newOrderNo();
      const req = buildApi1Request(testOrder(ctx, orderNo), ctx.config, ctx.target.token);
      const res = await postApi1(ctx, record, req.bodyText, ctx.target.token);
      const got = urlOf(res, true);
      if ("why" in got)
        return failed(
          `no payment URL: ${got.why}`,
          'Answer HTTP 200 with {"data":{"url":"https://…"},"result":true,"msg":""} (docs/psp-open-api.md#api-1-response).',
        );
      ctx.knownOrder = orderNo;
      return passed(`payment URL ${got.url}`);
    },
  },
  {
    id: "api1.https",
    title: "API-1's payment URL is https",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      const got = urlOf(await postApi1(ctx, record, req.bodyText, ctx.target.token), true);
      if ("why" in got) return failed(`no payment URL: ${got.why}`, "See api1.answer.");
      if (new URL(got.url).protocol === "https:") return passed(got.url);
      if (ctx.target.allowHttpUrls)
        return passed(`${got.url} (http allowed by ALLOW_HTTP_PAYMENT_URLS: development only)`);
      return failed(
        `${got.url} is not https`,
        "Serve the payment page over https: the CRM refuses any other URL.",
      );
    },
  },
  {
    id: "api1.latency",
    title: `API-1 answers within ${API1_LATENCY_LIMIT_MS / 1000} s`,
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      const res = await postApi1(ctx, record, req.bodyText, ctx.target.token);
      const ms = Math.round(res.latencyMs);
      if (!res.ok && res.reason !== "timeout") return failed(`no answer (${res.reason})`, "See api1.answer.");
      return ms <= (ctx.deps.latencyLimitMs ?? API1_LATENCY_LIMIT_MS)
        ? passed(`${ms} ms`)
        : failed(
            `${ms} ms`,
            "Answer API-1 at once with the page URL and do slow work after; the client is waiting.",
          );
    },
  },
  {
    id: "api1.bad_token",
    title: "API-1 refuses a wrong crm-pay-token",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      const wrong = `${ctx.target.token.slice(0, -1)}${ctx.target.token.endsWith("x") ? "y" : "x"}`;
      const r = refuses(await postApi1(ctx, record, req.bodyText, wrong));
      return r.refused
        ? passed(`refused: ${r.seen}`)
        : failed(
            `gave a payment URL (${r.seen})`,
            "Compare crm-pay-token with your token in constant time and refuse (401) when it differs.",
          );
    },
  },
  {
    id: "api1.no_token",
    title: "API-1 refuses a request without crm-pay-token",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      const r = refuses(await postApi1(ctx, record, req.bodyText, null));
      return r.refused
        ? passed(`refused: ${r.seen}`)
        : failed(`gave a payment URL (${r.seen})`, "Refuse a request whose crm-pay-token header is missing.");
    },
  },
  {
    id: "api1.bad_sign",
    title: "API-1 refuses a body whose sign does not verify",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      // One value changed after signing: the sign no longer matches the body.
      const amountKey = ctx.config.amount.key;
      const tampered = req.bodyText.replace(`"${amountKey}":10,`, `"${amountKey}":1000,`);
      if (tampered === req.bodyText) return skipped("could not change the amount of the test body");
      const r = refuses(await postApi1(ctx, record, tampered, ctx.target.token));
      return r.refused
        ? passed(`refused: ${r.seen}`)
        : failed(
            `gave a payment URL for a body changed after signing (${r.seen})`,
            "Verify sign over the raw body with your token (docs/integrating.md#the-signature-sign) and refuse (401) when it does not match.",
          );
    },
  },
  {
    id: "api1.same_order",
    title: "API-1 answers the same order_no twice with the same URL or a clear refusal",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const req = freshRequest(ctx);
      const first = urlOf(await postApi1(ctx, record, req.bodyText, ctx.target.token), true);
      if ("why" in first) return failed(`the first call gave no URL: ${first.why}`, "See api1.answer.");
      const againRes = await postApi1(ctx, record, req.bodyText, ctx.target.token);
      const again = urlOf(againRes, true);
      if ("url" in again) {
        return again.url === first.url
          ? passed("the same URL both times")
          : failed(
              `two different URLs (${first.url}, then ${again.url}): a client could pay twice`,
              "Keep the order_no you were given and answer the same payment page when it comes again.",
            );
      }
      return refuses(againRes).refused
        ? passed(`the second call was refused (${again.why})`)
        : failed(`the second answer is neither a URL nor a refusal: ${again.why}`, "See api1.answer.");
    },
  },
  {
    id: "api1.configured_keys",
    title: "API-1 reads the integration's renamed keys and custom parameters",
    api: "API-1",
    mandatory: true,
    async run(ctx, record) {
      const renamed = Object.entries(ctx.config).filter(([name, s]) => s.key !== name);
      const custom = ctx.target.customKeys ?? [];
      if (renamed.length === 0 && custom.length === 0)
        return notApplicable("the integration renames no key and has no custom parameter");
      // Under the integration's keys, with every custom parameter: a URL.
      const mine = urlOf(await postApi1(ctx, record, freshRequest(ctx).bodyText, ctx.target.token), true);
      if ("why" in mine)
        return failed(
          `a body under the integration's keys${custom.length ? " with its custom parameters" : ""} got no URL: ${mine.why}`,
          "Read each parameter under the key the back office shows for this integration, and accept its custom parameters.",
        );
      // Under the spec's names where the integration renamed them: a backend reading its own keys refuses.
      if (renamed.length > 0) {
        const spec = buildApi1Request(
          testOrder(ctx, ctx.deps.newOrderNo()),
          defaultApi1ParamConfig(),
          ctx.target.token,
        );
        if ("url" in urlOf(await postApi1(ctx, record, spec.bodyText, ctx.target.token), true))
          return failed(
            `gave a URL for a body with the spec's key names (${renamed.map(([n]) => n).join(", ")}) instead of the integration's`,
            "Read each parameter under the key the back office shows for this integration.",
          );
      }
      return passed(
        `renamed: ${renamed.map(([n, s]) => `${n}→${s.key}`).join(", ") || "none"}; custom: ${custom.join(", ") || "none"}`,
      );
    },
  },
];

const API3_CASES: CaseSpec[] = [
  {
    id: "api3.known_order",
    title: "API-3 answers a known order with a signed status",
    api: "API-3",
    mandatory: true,
    async run(ctx, record) {
      if (!ctx.target.statusQuery)
        return notApplicable("status queries are not enabled for this integration");
      if (!ctx.knownOrder) return skipped("no order was created (api1.answer failed)");
      const res = await postStatus(ctx, record, ctx.knownOrder);
      if (!res.ok) return failed(`no answer (${res.reason})`, "Answer POST {APP_URL}/pay/status.");
      const answer = parseStatusAnswer(res.bodyText);
      if (res.status !== 200 || answer.kind !== "found")
        return failed(
          `HTTP ${res.status}: ${answer.kind === "invalid" ? answer.reason : answer.kind}`,
          'Answer {"result":true,"msg":"ok","data":{…the signed API-2 body of the order…}} (docs/psp-open-api.md#api-3-status-query).',
        );
      const v = verifyDetailed(answer.dataText, ctx.target.token);
      if (!v.valid)
        return failed(
          `the data's sign does not verify (our StringA: ${v.stringA})`,
          "Sign data exactly as an API-2 callback, with this integration's token.",
        );
      const data = parseFlatJson(answer.dataText).params;
      if (data.order_no !== ctx.knownOrder || data.merchant_id !== ctx.target.merchantId)
        return failed(
          `data is about ${String(data.order_no)}, not ${ctx.knownOrder}`,
          "Answer about the order asked.",
        );
      return passed(`status ${String(data.status)} for ${ctx.knownOrder}`);
    },
  },
  {
    id: "api3.unknown_order",
    title: "API-3 answers order_not_found for an order it never saw",
    api: "API-3",
    mandatory: true,
    async run(ctx, record) {
      if (!ctx.target.statusQuery)
        return notApplicable("status queries are not enabled for this integration");
      const res = await postStatus(ctx, record, ctx.deps.newOrderNo());
      if (!res.ok) return failed(`no answer (${res.reason})`, "Answer POST {APP_URL}/pay/status.");
      const answer = parseStatusAnswer(res.bodyText);
      return answer.kind === "not_found"
        ? passed("order_not_found")
        : failed(
            `answered ${answer.kind === "invalid" ? answer.reason : `a status (${answer.kind})`}`,
            'Answer {"result":false,"msg":"order not found","data":{"code":"order_not_found"}} for an order you do not know.',
          );
    },
  },
];

async function postStatus(ctx: Context, record: (e: Exchange) => void, orderNo: string) {
  const url = statusQueryUrl(ctx.target.appUrl);
  const query = signStatusQuery(
    { merchantId: ctx.target.merchantId, orderNo, time: ctx.deps.now() },
    ctx.target.token,
  );
  const body = JSON.stringify(query);
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    "crm-pay-token": ctx.target.token,
  };
  const res = await ctx.deps.http.request({
    url,
    method: "POST",
    headers,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const { sign: _s, ...signed } = query;
  const shown = { ...headers, "crm-pay-token": "<token>" };
  record(exchangeOf(ctx, { method: "POST", url, headers: shown, body, stringA: stringA(signed) }, res));
  return res;
}

const CASES: CaseSpec[] = [...API1_CASES, ...API2_CASES, ...API3_CASES, ...PAYOUT_CASES];

/** The cases, in the order they run (ids and titles, for docs and listings). */
export const CERTIFY_CASES: ReadonlyArray<Pick<CaseSpec, "id" | "title" | "api" | "mandatory">> = CASES.map(
  ({ id, title, api, mandatory }) => ({ id, title, api, mandatory }),
);

/** Runs every case in order; `onCase` hears each result as it comes (the CLI prints it). */
export async function runCertify(
  target: CertifyTarget,
  deps: CertifyDeps,
  onCase?: (r: CaseResult) => void,
): Promise<CertifyReport> {
  const ctx: Context = { target, deps, config: target.paramConfig ?? defaultApi1ParamConfig() };
  const startedAt = deps.now();
  const cases: CaseResult[] = [];
  for (const spec of CASES) {
    const exchanges: Exchange[] = [];
    let outcome: Outcome;
    try {
      outcome = await spec.run(ctx, (e) => exchanges.push(e));
    } catch (error) {
      outcome = failed(`the case could not run: ${(error as Error).message}`, "Look at the exchanges above.");
    }
    const result: CaseResult = {
      id: spec.id,
      title: spec.title,
      api: spec.api,
      mandatory: spec.mandatory,
      ...outcome,
      exchanges,
    };
    cases.push(result);
    onCase?.(result);
  }
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const c of cases) counts[c.verdict]++;
  return {
    target: { appUrl: target.appUrl, merchantId: target.merchantId },
    startedAt,
    finishedAt: deps.now(),
    cases,
    counts,
    certified: cases.every((c) => !c.mandatory || c.verdict === "passed" || c.notApplicable === true),
  };
}
