import { formatAmount, isJsonNumberText, SIGN_KEY, sign, stringA, tryParseAmount } from "@psphub/protocol";
import { buildApi1Request } from "../deposits/api1-request.js";
import {
  API2_WAITS,
  type CaseSpec,
  type Context,
  type Exchange,
  failed,
  hide,
  notApplicable,
  type Outcome,
  passed,
  postApi1,
  skipped,
  testOrder,
  urlOf,
} from "./certify-case.js";
import { type CallbackScript, type ReceivedCallback, readLoose } from "./certify-inbox.js";

/**
 * The API-2 cases (docs/certify.md#callbacks): the suite creates four test orders whose
 * amounts the backend's test hooks settle by themselves (or the developer settles, in manual
 * mode), receives their callbacks as the CRM, answers some of them badly on purpose, and judges
 * what came. The orders are made and their callbacks gathered once, by the first of these cases;
 * each case then judges one property, so one mistake fails one case.
 */

type Kind = "success" | "failure" | "processing" | "other_amount";
const KINDS: readonly Kind[] = ["success", "failure", "processing", "other_amount"];

const ORDERS: Record<Kind, { amountMinor: bigint; script: CallbackScript; action: string; caseId: string }> =
  {
    success: { amountMinor: 1001n, script: "fail_first", action: "pay it (success)", caseId: "api2.success" },
    failure: { amountMinor: 1002n, script: "accept", action: "decline it (failure)", caseId: "api2.failure" },
    processing: {
      amountMinor: 1003n,
      script: "accept",
      action: "report it processing, then paid",
      caseId: "api2.processing",
    },
    other_amount: {
      amountMinor: 1004n,
      script: "refuse_other_amount",
      action: "pay 10.00 instead of 10.04",
      caseId: "api2.stop_after_400",
    },
  };
/** What a 10.04 test order reports as paid. */
const OTHER_AMOUNT_PAID = 1000n;

type Api2Order = {
  kind: Kind;
  orderNo: string;
  api1: Exchange[];
  url?: string;
  why?: string;
  calls: ReceivedCallback[];
};
type Api2Run = { orders: Record<Kind, Api2Order>; firstWaitMs: number };

/** A received callback's body, read leniently (certify-inbox.ts). */
const loose = (c: ReceivedCallback) => readLoose(c.rawBody, c.contentType);
const field = (c: ReceivedCallback, key: string): string | undefined => {
  const v = loose(c)?.params[key];
  return v === undefined || v === null ? undefined : String(v);
};

const TOKEN_SHOWN = {
  current: "<token>",
  previous: "<previous token>",
  none: "<not this integration's token>",
};

/** The report's record of a callback the backend sent (to `path` of CRM_Callback_URL) and the answer. */
export function callbackExchange(
  ctx: Context,
  c: ReceivedCallback,
  path: "/pay/callback" | "/payout/callback" = "/pay/callback",
): Exchange {
  const parsed = loose(c);
  let signed: string | undefined;
  if (parsed) {
    const { [SIGN_KEY]: _s, ...rest } = parsed.params;
    signed = stringA(rest, parsed.literals ? { literals: parsed.literals } : undefined);
  }
  let body = hide(c.rawBody, ctx.target.token);
  if (ctx.target.previousToken) body = hide(body, ctx.target.previousToken);
  return {
    direction: "from_backend",
    request: {
      method: "POST",
      url: `CRM_Callback_URL${path}`,
      headers: {
        "crm-pay-token": TOKEN_SHOWN[c.token],
        ...(c.contentType ? { "content-type": c.contentType } : {}),
      },
      body,
      ...(signed === undefined ? {} : { stringA: signed }),
    },
    response: { status: c.answer.status, body: c.answer.body, ms: 0 },
  };
}

const waitsOf = (ctx: Context) => ({ ...API2_WAITS, ...ctx.deps.waits });
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether an order has all the callbacks it will get (or waited long enough for them). */
function settled(o: Api2Order, now: number, start: number, ctx: Context, firstWaitMs: number): boolean {
  const waits = waitsOf(ctx);
  if (!o.url) return true;
  const first = o.calls[0];
  if (!first) return now - start >= firstWaitMs;
  switch (o.kind) {
    case "success":
      return o.calls.length >= 2 || now - first.at >= waits.retryWaitMs;
    case "failure":
      return true;
    case "processing":
      return o.calls.some((c) => ["0", "1"].includes(field(c, "status") ?? "")) || now - start >= firstWaitMs;
    case "other_amount":
      return now - first.at >= waits.quietMs;
  }
}

/** Makes the four test orders and gathers their callbacks (once per run). */
function api2Run(ctx: Context): Promise<Api2Run> {
  ctx.api2 ??= (async (): Promise<Api2Run> => {
    const inbox = ctx.deps.inbox;
    if (!inbox) throw new Error("no inbox");
    const sleep = ctx.deps.sleep ?? defaultSleep;
    const orders = {} as Record<Kind, Api2Order>;
    for (const kind of KINDS) {
      const spec = ORDERS[kind];
      const orderNo = ctx.deps.newOrderNo();
      await inbox.expect({ orderNo, script: spec.script, amountMinor: spec.amountMinor });
      const api1: Exchange[] = [];
      const req = buildApi1Request(testOrder(ctx, orderNo, spec.amountMinor), ctx.config, ctx.target.token);
      const got = urlOf(await postApi1(ctx, (e) => api1.push(e), req.bodyText, ctx.target.token), true);
      orders[kind] = {
        kind,
        orderNo,
        api1,
        calls: [],
        ...("url" in got ? { url: got.url } : { why: got.why }),
      };
      if ("url" in got)
        ctx.deps.manual?.ask({ caseId: spec.caseId, orderNo, url: got.url, action: spec.action });
    }
    const firstWaitMs = ctx.deps.manual?.waitMs ?? waitsOf(ctx).hookWaitMs;
    const start = ctx.deps.now();
    for (;;) {
      for (const kind of KINDS)
        if (orders[kind].url) orders[kind].calls = await inbox.received(orders[kind].orderNo);
      const now = ctx.deps.now();
      if (KINDS.every((k) => settled(orders[k], now, start, ctx, firstWaitMs))) break;
      await sleep(100);
    }
    return { orders, firstWaitMs };
  })();
  return ctx.api2 as Promise<Api2Run>;
}

const NO_LISTENER =
  "nowhere to receive callbacks: give --callback-port and point the backend's CRM_Callback_URL at the address printed";

/** The run's order of this kind with its callbacks, or the outcome when there is nothing to judge. */
async function orderOf(
  ctx: Context,
  record: (e: Exchange) => void,
  kind: Kind,
): Promise<{ order: Api2Order; run: Api2Run } | { outcome: Outcome }> {
  if (!ctx.deps.inbox) return { outcome: skipped(NO_LISTENER) };
  const run = await api2Run(ctx);
  const order = run.orders[kind];
  for (const e of order.api1) record(e);
  for (const c of order.calls) record(callbackExchange(ctx, c));
  const amount = formatAmount(ORDERS[kind].amountMinor, 2);
  if (!order.url)
    return {
      outcome: failed(`API-1 gave no URL for the ${amount} USD test order: ${order.why}`, "See api1.answer."),
    };
  if (order.calls.length === 0)
    return {
      outcome: failed(
        `no callback for the ${amount} USD test order ${order.orderNo} within ${Math.round(run.firstWaitMs / 1000)} s`,
        ctx.deps.manual
          ? `Open the order's payment page and ${ORDERS[kind].action}; check that CRM_Callback_URL is the address the suite printed.`
          : "Settle test orders by the test hooks (docs/certify.md#test-hooks), or run with --manual and act on each payment page yourself; check that CRM_Callback_URL points at the suite.",
      ),
    };
  return { order, run };
}

/** What does not match the test order in a callback: order_no, merchant_id, currency. */
function wrongFacts(ctx: Context, order: Api2Order, c: ReceivedCallback): string[] {
  const wrong: string[] = [];
  if (field(c, "order_no") !== order.orderNo) wrong.push(`order_no ${field(c, "order_no")}`);
  if (field(c, "merchant_id") !== ctx.target.merchantId) wrong.push(`merchant_id ${field(c, "merchant_id")}`);
  if (field(c, "currency") !== "USD") wrong.push(`currency ${field(c, "currency")} (the order's is USD)`);
  return wrong;
}

const statuses = (o: Api2Order) => o.calls.map((c) => field(c, "status") ?? "?");

/** A case judging the first callback(s) of one order's kind. */
function orderCase(
  id: string,
  title: string,
  kind: Kind,
  judge: (ctx: Context, order: Api2Order, run: Api2Run) => Outcome,
): CaseSpec {
  return {
    id,
    title,
    api: "API-2",
    mandatory: true,
    async run(ctx, record) {
      const got = await orderOf(ctx, record, kind);
      return "outcome" in got ? got.outcome : judge(ctx, got.order, got.run);
    },
  };
}

/** A case judging every callback of the run. */
function everyCallbackCase(
  id: string,
  title: string,
  judge: (ctx: Context, calls: Array<{ order: Api2Order; call: ReceivedCallback }>) => Outcome,
): CaseSpec {
  return {
    id,
    title,
    api: "API-2",
    mandatory: true,
    async run(ctx, record) {
      if (!ctx.deps.inbox) return skipped(NO_LISTENER);
      const run = await api2Run(ctx);
      const calls = KINDS.flatMap((k) => run.orders[k].calls.map((call) => ({ order: run.orders[k], call })));
      for (const { call } of calls) record(callbackExchange(ctx, call));
      if (calls.length === 0) return skipped("no callback arrived (see api2.success)");
      return judge(ctx, calls);
    },
  };
}

const SAME_FACTS = ["order_no", "status", "amount", "time", "transaction_id"] as const;
const RETRIES = "docs/psp-open-api.md#api-2-retries";

export const API2_CASES: CaseSpec[] = [
  orderCase("api2.success", "A paid test order (10.01) is reported with status 1", "success", (ctx, o) => {
    const first = o.calls[0]!;
    const wrong = wrongFacts(ctx, o, first);
    if (field(first, "status") !== "1") wrong.unshift(`status ${field(first, "status")}`);
    return wrong.length === 0
      ? passed(`status 1 for ${o.orderNo}, transaction_id ${field(first, "transaction_id") ?? "(none)"}`)
      : failed(
          `the callback has ${wrong.join(", ")}`,
          "Report a paid order with status 1, its order_no, your merchant_id and its currency.",
        );
  }),
  orderCase(
    "api2.failure",
    "A declined test order (10.02) is reported with status 0",
    "failure",
    (ctx, o) => {
      const first = o.calls[0]!;
      const wrong = wrongFacts(ctx, o, first);
      if (field(first, "status") !== "0") wrong.unshift(`status ${field(first, "status")}`);
      return wrong.length === 0
        ? passed(`status 0 for ${o.orderNo}`)
        : failed(`the callback has ${wrong.join(", ")}`, "Report a declined payment with status 0.");
    },
  ),
  orderCase(
    "api2.processing",
    "A test order that waits (10.03) is reported processing (2), then paid (1)",
    "processing",
    (ctx, o) => {
      const seen = statuses(o);
      const wrong = o.calls.flatMap((c) => wrongFacts(ctx, o, c));
      const ok =
        seen[0] === "2" &&
        seen.includes("1") &&
        !seen.includes("0") &&
        seen.lastIndexOf("2") < seen.indexOf("1");
      return ok && wrong.length === 0
        ? passed(`statuses ${seen.join(" → ")}`)
        : failed(
            `statuses ${seen.join(" → ")}${wrong.length ? `; ${wrong.join(", ")}` : ""}`,
            "Send status 2 while the payment is under way, then 1 when it is paid; never 2 after a final status.",
          );
    },
  ),
  orderCase(
    "api2.retry_after_500",
    "A callback answered 500 is sent again, unchanged",
    "success",
    (ctx, o) => {
      const [first, again] = o.calls;
      if (first!.answer.status !== 500)
        return failed(
          `the first callback was refused (${first!.answer.status}) before the suite could answer 500: see api2.signature`,
          "Send callbacks with this integration's token.",
        );
      if (!again) {
        const waited = Math.round(waitsOf(ctx).retryWaitMs / 1000);
        return failed(
          `no retry within ${waited} s after the suite answered 500 internal_error`,
          `Retry network errors, timeouts and 5xx with backoff, for hours if need be (${RETRIES}).`,
        );
      }
      const changed = SAME_FACTS.filter((k) => field(first!, k) !== field(again, k));
      return changed.length === 0
        ? passed(`sent again ${again.at - first!.at} ms after the 500, with the same facts`)
        : failed(
            `the retry changed ${changed.map((k) => `\`${k}\` (${field(first!, k)} → ${field(again, k)})`).join(", ")}`,
            `Resend the same callback on a retry: the same order_no, status, amount, time and transaction_id (${RETRIES}).`,
          );
    },
  ),
  orderCase(
    "api2.stop_after_400",
    "A callback answered 400 (another amount, 10.04 paid as 10.00) is not sent again",
    "other_amount",
    (ctx, o) => {
      const first = o.calls[0]!;
      if (first.answer.status === 204)
        return failed(
          `the callback reported ${field(first, "amount")}, the order's own amount, so the suite accepted it`,
          "The 10.04 test hook reports a payment of 10.00 (docs/certify.md#test-hooks); in manual mode, pay 10.00.",
        );
      const more = o.calls.length - 1;
      const quiet = Math.round(waitsOf(ctx).quietMs / 1000);
      return more === 0
        ? passed(`answered ${first.answer.status}, and not sent again within ${quiet} s`)
        : failed(
            `sent ${more} more time${more === 1 ? "" : "s"} after the suite answered ${first.answer.status}`,
            `Do not retry a 4xx other than 429: the CRM will answer the same again (${RETRIES}); show it to a person.`,
          );
    },
  ),
  everyCallbackCase(
    "api2.amount_format",
    "`amount` is a JSON number with the currency's decimals, the amount paid",
    (_ctx, calls) => {
      const problems: string[] = [];
      const seen: string[] = [];
      for (const { order, call } of calls) {
        const sent = loose(call);
        const value = sent?.params.amount;
        const literal =
          sent?.literals?.amount ?? (value === undefined || value === null ? undefined : String(value));
        const expected = order.kind === "other_amount" ? OTHER_AMOUNT_PAID : ORDERS[order.kind].amountMinor;
        if (literal === undefined) {
          problems.push(`${order.orderNo}: no \`amount\``);
          continue;
        }
        seen.push(literal);
        if (sent && !sent.form && typeof value !== "number") {
          problems.push(
            `${order.orderNo}: \`amount\` ${JSON.stringify(value)} is a string, not a JSON number`,
          );
          continue;
        }
        if (!isJsonNumberText(literal)) {
          problems.push(`${order.orderNo}: \`amount\` ${JSON.stringify(literal)} is not a number`);
          continue;
        }
        const parsed = tryParseAmount(literal, 2);
        if (!parsed.ok) problems.push(`${order.orderNo}: \`amount\` ${literal}: ${parsed.message}`);
        else if (parsed.minor !== expected)
          problems.push(`${order.orderNo}: \`amount\` ${literal}, expected ${formatAmount(expected, 2)}`);
      }
      return problems.length === 0
        ? passed(`amounts as sent: ${[...new Set(seen)].join(", ")}`)
        : failed(
            problems.join("; "),
            "Send `amount` as a JSON number of the amount paid, with at most the currency's decimals (docs/psp-open-api.md#amounts).",
          );
    },
  ),
  everyCallbackCase("api2.time_ms", "`time` is an integer of Unix milliseconds", (ctx, calls) => {
    const problems: string[] = [];
    const now = ctx.deps.now();
    for (const { order, call } of calls) {
      const parsed = loose(call);
      const value = parsed?.params.time;
      const t =
        typeof value === "number"
          ? value
          : typeof value === "string" && /^\d+$/.test(value)
            ? Number(value)
            : NaN;
      if (parsed && !parsed.form && typeof value !== "number")
        problems.push(`${order.orderNo}: \`time\` ${JSON.stringify(value ?? null)} is not a JSON number`);
      else if (!Number.isSafeInteger(t))
        problems.push(`${order.orderNo}: \`time\` ${String(value)} is not an integer`);
      else if (t < 1e11)
        problems.push(`${order.orderNo}: \`time\` ${t} looks like seconds, not milliseconds`);
      else if (Math.abs(t - now) > 24 * 3_600_000)
        problems.push(`${order.orderNo}: \`time\` ${t} is ${new Date(t).toISOString()}, not about now`);
    }
    return problems.length === 0
      ? passed("every `time` is Unix milliseconds of about now")
      : failed(
          problems.join("; "),
          "Send `time` as an integer of Unix milliseconds (Date.now() in JavaScript).",
        );
  }),
  everyCallbackCase(
    "api2.signature",
    "Callbacks carry the token and a sign that verifies (numbers as written, or as parsed)",
    (ctx, calls) => {
      const problems: string[] = [];
      const forms = new Set<string>();
      for (const { order, call } of calls) {
        if (call.token === "none") {
          problems.push(`${order.orderNo}: header crm-pay-token is not this integration's token`);
          continue;
        }
        const token = call.token === "previous" ? ctx.target.previousToken! : ctx.target.token;
        const sent = loose(call);
        if (!sent) {
          problems.push(`${order.orderNo}: the body is not a flat JSON object or a form`);
          continue;
        }
        const { [SIGN_KEY]: given, ...rest } = sent.params;
        const provided = String(given ?? "").toUpperCase();
        const literal = sign(rest, token, sent.literals ? { literals: sent.literals } : undefined);
        const parsed = sign(rest, token);
        if (provided === literal) forms.add("numbers as written");
        else if (provided === parsed) forms.add("numbers as parsed");
        else
          problems.push(
            `${order.orderNo}: sign does not verify (StringA: ${stringA(rest, sent.literals ? { literals: sent.literals } : undefined)})`,
          );
      }
      return problems.length === 0
        ? passed(`every sign verifies, over ${[...forms].join(" and ")}`)
        : failed(
            problems.join("; "),
            "Sign every callback as docs/integrating.md#the-signature-sign says; compare your StringA with the one shown, or with `psphub sign`.",
          );
    },
  ),
  {
    id: "api2.rotation",
    title: "After a token rotation, the new token works and callbacks are signed with a token in its grace",
    api: "API-2",
    mandatory: true,
    async run(ctx, record) {
      if (!ctx.target.previousToken)
        return notApplicable("the token was not rotated (no previous token in its grace period)");
      if (!ctx.deps.inbox) return skipped(NO_LISTENER);
      const run = await api2Run(ctx);
      const orders = KINDS.map((k) => run.orders[k]);
      for (const o of orders) for (const c of o.calls) record(callbackExchange(ctx, c));
      if (!orders.some((o) => o.url))
        return failed(
          "API-1 with the new token gave no URL",
          "Add the new token to your backend, new first (docs/integrating.md#token-rotation).",
        );
      const calls = orders.flatMap((o) => o.calls);
      const count = (t: ReceivedCallback["token"]) => calls.filter((c) => c.token === t).length;
      if (calls.length === 0) return skipped("no callback arrived (see api2.success)");
      if (count("none") > 0)
        return failed(
          `${count("none")} callback(s) carried neither the new nor the previous token`,
          "Sign callbacks with the new token (the previous one is accepted until its grace period ends).",
        );
      return count("previous") > 0
        ? passed(
            `API-1 served with the new token; ${count("previous")} callback(s) still signed with the previous token, accepted during its grace period: switch to the new one before it ends`,
          )
        : passed("API-1 served with the new token, and every callback signed with it");
    },
  },
];
