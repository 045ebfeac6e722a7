import {
  type FlatParams,
  formatAmount,
  isJsonNumberText,
  PAYOUT_REQUEST_PATH,
  PAYOUT_STATUS_PATH,
  type PayoutRequestAnswer,
  parseFlatJson,
  parsePayoutCallback,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  SIGN_KEY,
  sign,
  signPayoutRequest,
  signPayoutStatusQuery,
  stringA,
  tryParseAmount,
  verifyDetailed,
} from "@psphub/protocol";
import { TEST_ORDER_HEADER } from "@psphub/sdk";
import type { GuardedResponse } from "../../infra/http-out/guarded-client.js";
import { statusQueryUrl } from "../status-query/status-query-request.js";
import { callbackExchange } from "./certify-api2-cases.js";
import {
  API2_WAITS,
  type CaseSpec,
  type Context,
  type Exchange,
  exchangeOf,
  failed,
  notApplicable,
  type Outcome,
  passed,
  REQUEST_TIMEOUT_MS,
  skipped,
} from "./certify-case.js";
import { type ReceivedCallback, readLoose } from "./certify-inbox.js";

/**
 * The payout cases (docs/certify.md#payouts), run when the target asks for them
 * (`payouts`, `psphub certify --payouts`); otherwise they do not apply. The suite sends one test
 * payout by API-4 (header `x-psphub-test: 1`, which a backend with test hooks pays at once), sends
 * it again as the CRM would after a lost answer, receives its API-5 callbacks in the run's inbox
 * under its payout_no (the CRM emulator's `POST /payout/callback`, or the back office's real
 * endpoint), and asks its status by the payout status query. The payout and its callbacks are
 * gathered once, by the first of these cases; each case then judges one property.
 */

/** The test payout: 10.50 USD, so the CRM writes its amount as the shortest literal `10.5`. */
const PAYOUT_AMOUNT_MINOR = 1050n;
const PAYOUT_CURRENCY = "USD";
const DEFAULT_FIELDS: Readonly<Record<string, string>> = { iban: "DE89370400440532013000" };

type Api4Result = { answer?: PayoutRequestAnswer; why?: string; exchanges: Exchange[] };

type PayoutRun = {
  payoutNo: string;
  first: Api4Result;
  again: Api4Result;
  calls: ReceivedCallback[];
  waitedMs: number;
};

const NOT_ASKED = "payouts were not asked for (psphub certify --payouts)";
const NO_LISTENER =
  "nowhere to receive API-5 callbacks: give --callback-port and point the backend's CRM_Callback_URL at the address printed";
const CONTRACT = "docs/psp-open-api.md#payouts";
const AMOUNT_TEXT = `${formatAmount(PAYOUT_AMOUNT_MINOR, 2)} ${PAYOUT_CURRENCY}`;

const waitsOf = (ctx: Context) => ({ ...API2_WAITS, ...ctx.deps.waits });
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const loose = (c: ReceivedCallback) => readLoose(c.rawBody, c.contentType);
const field = (c: ReceivedCallback, key: string): string | undefined => {
  const v = loose(c)?.params[key];
  return v === undefined || v === null ? undefined : String(v);
};

/** Posts a signed body to APP_URL + `path`, the token header and the test header set, recorded. */
async function post(
  ctx: Context,
  record: (e: Exchange) => void,
  path: string,
  params: FlatParams,
  body: string,
  test: boolean,
): Promise<GuardedResponse> {
  const url = statusQueryUrl(ctx.target.appUrl, path);
  const headers = {
    "content-type": "application/json",
    accept: "application/json",
    ...(test ? { [TEST_ORDER_HEADER]: "1" } : {}),
    "crm-pay-token": ctx.target.token,
  };
  const res = await ctx.deps.http.request({
    url,
    method: "POST",
    headers,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  const { sign: _s, ...signed } = params;
  const shown = { ...headers, "crm-pay-token": "<token>" };
  record(exchangeOf(ctx, { method: "POST", url, headers: shown, body, stringA: stringA(signed) }, res));
  return res;
}

/** Sends the test payout's API-4 and reads the answer as the CRM does. */
async function api4(ctx: Context, payoutNo: string): Promise<Api4Result> {
  const exchanges: Exchange[] = [];
  const body = signPayoutRequest(
    {
      merchantId: ctx.target.merchantId,
      payoutNo,
      amountMinor: PAYOUT_AMOUNT_MINOR,
      decimals: 2,
      currency: PAYOUT_CURRENCY,
      userId: "certify1",
      fields: ctx.target.payoutFields ?? DEFAULT_FIELDS,
      time: ctx.deps.now(),
    },
    ctx.target.token,
  );
  const res = await post(
    ctx,
    (e) => exchanges.push(e),
    PAYOUT_REQUEST_PATH,
    body,
    JSON.stringify(body),
    true,
  );
  if (!res.ok) return { why: `no answer (${res.reason}: ${res.detail})`, exchanges };
  if (res.status !== 200) return { why: `HTTP ${res.status}`, exchanges };
  let json: unknown;
  try {
    json = JSON.parse(res.bodyText);
  } catch {
    return { why: "the body is not JSON", exchanges };
  }
  return { answer: parsePayoutRequestAnswer(json), exchanges };
}

/** Whether the payout has all the callbacks it will get (or waited long enough for them). */
function settled(
  calls: ReceivedCallback[],
  now: number,
  start: number,
  firstWaitMs: number,
  quietMs: number,
) {
  const final = calls.find((c) => ["0", "1"].includes(field(c, "status") ?? ""));
  return final ? now - final.at >= quietMs : now - start >= firstWaitMs;
}

/** Sends the test payout twice and gathers its API-5 callbacks (once per run). */
function payoutRun(ctx: Context): Promise<PayoutRun> {
  ctx.payouts ??= (async (): Promise<PayoutRun> => {
    const inbox = ctx.deps.inbox;
    const payoutNo = ctx.deps.newOrderNo();
    // Registered like a test order, its payout_no as the order number: API-5 is routed by it.
    await inbox?.expect({ orderNo: payoutNo, script: "accept", amountMinor: PAYOUT_AMOUNT_MINOR });
    const first = await api4(ctx, payoutNo);
    if (first.answer?.kind === "accepted")
      ctx.deps.manual?.ask({
        caseId: "payout.callback",
        orderNo: payoutNo,
        url: ctx.target.appUrl,
        action: `pay out the test payout ${payoutNo} (${AMOUNT_TEXT}) and report it paid by API-5`,
      });
    // The CRM did not get the answer: the same payout again, a moment later.
    const again = await api4(ctx, payoutNo);
    const firstWaitMs = ctx.deps.manual?.waitMs ?? waitsOf(ctx).hookWaitMs;
    const start = ctx.deps.now();
    let calls: ReceivedCallback[] = [];
    if (inbox && first.answer?.kind === "accepted") {
      const sleep = ctx.deps.sleep ?? defaultSleep;
      for (;;) {
        calls = await inbox.received(payoutNo);
        if (settled(calls, ctx.deps.now(), start, firstWaitMs, waitsOf(ctx).quietMs)) break;
        await sleep(100);
      }
    }
    return { payoutNo, first, again, calls, waitedMs: firstWaitMs };
  })();
  return ctx.payouts as Promise<PayoutRun>;
}

/** The run, or the outcome when payouts were not asked for. */
async function runOf(ctx: Context): Promise<PayoutRun | { outcome: Outcome }> {
  if (!ctx.target.payouts) return { outcome: notApplicable(NOT_ASKED) };
  return payoutRun(ctx);
}

const accepted = (r: Api4Result) => r.answer?.kind === "accepted";
const seen = (r: Api4Result): string =>
  r.answer === undefined
    ? (r.why ?? "no answer")
    : r.answer.kind === "accepted"
      ? `result true, transaction_id ${r.answer.transactionId ?? "(none)"}`
      : r.answer.kind === "refused"
        ? `result false${r.answer.msg ? ` (msg: ${r.answer.msg})` : ""}`
        : `an answer the CRM cannot read: ${r.answer.reason}`;
const transactionOf = (r: Api4Result) => (r.answer?.kind === "accepted" ? r.answer.transactionId : undefined);
const NOT_TAKEN = "no test payout was taken (see payout.request)";
const statusesOf = (calls: ReceivedCallback[]) => calls.map((c) => field(c, "status") ?? "?");

/** What is wrong with one API-5 callback of the test payout (empty when nothing). */
function callbackProblems(ctx: Context, payoutNo: string, c: ReceivedCallback): string[] {
  if (c.token === "none") return ["header crm-pay-token is not this integration's token"];
  const sent = loose(c);
  if (!sent) return ["the body is not a flat JSON object or a form"];
  const problems: string[] = [];
  const parsed = parsePayoutCallback(sent.params, sent.literals, { form: sent.form });
  if (!parsed.ok) problems.push(parsed.error.message);
  const token = c.token === "previous" ? ctx.target.previousToken! : ctx.target.token;
  const { [SIGN_KEY]: given, ...rest } = sent.params;
  const provided = String(given ?? "").toUpperCase();
  const literals = sent.literals ? { literals: sent.literals } : undefined;
  if (provided !== sign(rest, token, literals) && provided !== sign(rest, token))
    problems.push(`sign does not verify (StringA: ${stringA(rest, literals)})`);
  if (field(c, "payout_no") !== payoutNo) problems.push(`payout_no ${field(c, "payout_no")}`);
  if (field(c, "merchant_id") !== ctx.target.merchantId)
    problems.push(`merchant_id ${field(c, "merchant_id")}`);
  if (field(c, "currency") !== PAYOUT_CURRENCY)
    problems.push(`currency ${field(c, "currency")} (API-4's is ${PAYOUT_CURRENCY})`);
  const value = sent.params.amount;
  const literal =
    sent.literals?.amount ?? (value === undefined || value === null ? undefined : String(value));
  if (literal === undefined) problems.push("no `amount`");
  else if (!sent.form && typeof value !== "number")
    problems.push(`\`amount\` ${JSON.stringify(value)} is not a JSON number`);
  else if (!isJsonNumberText(literal)) problems.push(`\`amount\` ${JSON.stringify(literal)} is not a number`);
  else {
    const amount = tryParseAmount(literal, 2);
    if (!amount.ok || amount.minor !== PAYOUT_AMOUNT_MINOR)
      problems.push(`\`amount\` ${literal}, not API-4's ${formatAmount(PAYOUT_AMOUNT_MINOR, 2)}`);
  }
  const time = typeof sent.params.time === "number" ? sent.params.time : Number(sent.params.time);
  if (!Number.isSafeInteger(time) || time < 1e11 || Math.abs(time - ctx.deps.now()) > 24 * 3_600_000)
    problems.push(`\`time\` ${String(sent.params.time)} is not Unix milliseconds of about now`);
  return problems;
}

/** Posts a payout status query for `payoutNo`. */
function postStatus(ctx: Context, record: (e: Exchange) => void, payoutNo: string) {
  const query = signPayoutStatusQuery(
    { merchantId: ctx.target.merchantId, payoutNo, time: ctx.deps.now() },
    ctx.target.token,
  );
  return post(ctx, record, PAYOUT_STATUS_PATH, { ...query }, JSON.stringify(query), false);
}

export const PAYOUT_CASES: CaseSpec[] = [
  {
    id: "payout.request",
    title: "API-4 takes a test payout: HTTP 200 with result true (transaction_id optional)",
    api: "API-4",
    mandatory: true,
    async run(ctx, record) {
      const run = await runOf(ctx);
      if ("outcome" in run) return run.outcome;
      for (const e of run.first.exchanges) record(e);
      if (accepted(run.first)) return passed(`${seen(run.first)} for ${run.payoutNo} (${AMOUNT_TEXT})`);
      return failed(
        `the test payout ${run.payoutNo} got ${seen(run.first)}`,
        `Answer POST {APP_URL}/payout/request with HTTP 200 {"result":true,"msg":"ok","data":{"transaction_id":"…"}} when you take a payout; result false only when you refuse it and pay nothing (${CONTRACT}).`,
      );
    },
  },
  {
    id: "payout.idempotent",
    title: "The same payout_no sent twice answers result true again, and at most one paid API-5 comes",
    api: "API-4",
    mandatory: true,
    async run(ctx, record) {
      const run = await runOf(ctx);
      if ("outcome" in run) return run.outcome;
      for (const e of run.again.exchanges) record(e);
      for (const c of run.calls) record(callbackExchange(ctx, c, "/payout/callback"));
      if (!accepted(run.first)) return skipped(NOT_TAKEN);
      const fix = `Record each payout under its payout_no before you pay, and answer a repeat from that record: result true, the same transaction_id, nothing paid again (${CONTRACT}).`;
      if (!accepted(run.again)) return failed(`the second request got ${seen(run.again)}`, fix);
      const [one, two] = [transactionOf(run.first), transactionOf(run.again)];
      if (one !== undefined && two !== undefined && one !== two)
        return failed(
          `the second request got another transaction_id (${one}, then ${two}): paid twice?`,
          fix,
        );
      if (!ctx.deps.inbox) return skipped(NO_LISTENER);
      const paid = run.calls.filter((c) => field(c, "status") === "1");
      if (paid.length > 1) {
        const ids = [...new Set(paid.map((c) => field(c, "transaction_id") ?? "(none)"))];
        return failed(
          `${paid.length} paid API-5 callbacks for one payout_no (transaction_id ${ids.join(", ")})`,
          fix,
        );
      }
      return passed(
        `result true both times${(one ?? two) ? `, transaction_id ${one ?? two}` : ""}; ${paid.length} paid API-5`,
      );
    },
  },
  {
    id: "payout.callback",
    title: "API-5 reports the test payout: signed, API-4's amount as a JSON number, status 1 (or 2, then 1)",
    api: "API-5",
    mandatory: true,
    async run(ctx, record) {
      const run = await runOf(ctx);
      if ("outcome" in run) return run.outcome;
      if (!ctx.deps.inbox) return skipped(NO_LISTENER);
      for (const c of run.calls) record(callbackExchange(ctx, c, "/payout/callback"));
      if (!accepted(run.first)) return skipped(NOT_TAKEN);
      if (run.calls.length === 0)
        return failed(
          `no API-5 for the test payout ${run.payoutNo} within ${Math.round(run.waitedMs / 1000)} s`,
          ctx.deps.manual
            ? `Pay out the test payout and send API-5 to {CRM_Callback_URL}/payout/callback with its payout_no; check that CRM_Callback_URL is the address the suite printed.`
            : `Report a test payout (x-psphub-test: 1) paid at once (docs/certify.md#test-payouts), by API-5 to {CRM_Callback_URL}/payout/callback with payout_no (not order_no), or run with --manual.`,
        );
      const problems = run.calls.flatMap((c, i) =>
        callbackProblems(ctx, run.payoutNo, c).map((p) => `callback ${i + 1}: ${p}`),
      );
      const statuses = statusesOf(run.calls);
      const firstPaid = statuses.indexOf("1");
      const order =
        firstPaid >= 0 &&
        statuses.slice(0, firstPaid).every((s) => s === "2") &&
        statuses.slice(firstPaid).every((s) => s === "1");
      if (!order) problems.push(`statuses ${statuses.join(" → ")}: expected 1, or 2 then 1`);
      return problems.length === 0
        ? passed(`statuses ${statuses.join(" → ")}, amount and sign right`)
        : failed(
            problems.join("; "),
            `Send API-5 as API-2 is sent, with payout_no, API-4's amount exactly as a JSON number and its currency, signed with this integration's token; report the test payout paid (1), with processing (2) before it if you like (${CONTRACT}).`,
          );
    },
  },
  {
    id: "payout.status",
    title:
      "The payout status query answers a signed API-5 body for the test payout, and payout_not_found for an unknown one",
    api: "API-5",
    mandatory: true,
    async run(ctx, record) {
      const run = await runOf(ctx);
      if ("outcome" in run) return run.outcome;
      const unknown = await postStatus(ctx, record, ctx.deps.newOrderNo());
      const unknownAnswer = unknown.ok ? parsePayoutStatusAnswer(unknown.bodyText) : undefined;
      if (unknownAnswer?.kind !== "not_found")
        return failed(
          `a payout never sent got ${unknown.ok ? `HTTP ${unknown.status}: ${unknownAnswer?.kind === "invalid" ? unknownAnswer.reason : "a status"}` : `no answer (${unknown.reason})`}`,
          'Answer {"result":false,"msg":"payout not found","data":{"code":"payout_not_found"}} for a payout you do not know.',
        );
      if (!accepted(run.first)) return skipped(`payout_not_found for an unknown payout; ${NOT_TAKEN}`);
      const res = await postStatus(ctx, record, run.payoutNo);
      const fix = `Answer {"result":true,"msg":"ok","data":{…the signed API-5 body of the payout's status…}} (${CONTRACT}).`;
      if (!res.ok) return failed(`no answer for ${run.payoutNo} (${res.reason})`, fix);
      const answer = parsePayoutStatusAnswer(res.bodyText);
      if (res.status !== 200 || answer.kind !== "found")
        return failed(
          `HTTP ${res.status} for ${run.payoutNo}: ${answer.kind === "invalid" ? answer.reason : answer.kind}`,
          fix,
        );
      const v = verifyDetailed(answer.dataText, ctx.target.token);
      if (!v.valid)
        return failed(
          `the data's sign does not verify (our StringA: ${v.stringA})`,
          "Sign data exactly as an API-5 callback, with this integration's token.",
        );
      const { params, literals } = parseFlatJson(answer.dataText);
      const parsed = parsePayoutCallback(params, literals);
      if (!parsed.ok) return failed(`data is not an API-5 body: ${parsed.error.message}`, fix);
      const data = parsed.callback;
      const wrong: string[] = [];
      if (data.orderNo !== run.payoutNo) wrong.push(`payout_no ${data.orderNo}`);
      if (data.merchantId !== ctx.target.merchantId) wrong.push(`merchant_id ${data.merchantId}`);
      const amount = tryParseAmount(data.amountText, 2);
      if (data.currency !== PAYOUT_CURRENCY || !amount.ok || amount.minor !== PAYOUT_AMOUNT_MINOR)
        wrong.push(`amount ${data.amountText} ${data.currency}, not ${AMOUNT_TEXT}`);
      return wrong.length === 0
        ? passed(`status ${data.status} for ${run.payoutNo}; payout_not_found for an unknown payout`)
        : failed(`data says ${wrong.join(", ")}`, "Answer about the payout asked, with API-4's amount.");
    },
  },
];
