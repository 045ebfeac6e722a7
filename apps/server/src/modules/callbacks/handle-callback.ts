import type { ParsedCallback } from "@psphub/protocol";
import {
  CALLBACK_ERROR_TYPES,
  type CallbackErrorType,
  formatAmount,
  isCallbackStatus,
  tryParseAmount,
} from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { newId } from "../../common/ids.js";
import { createMicroBatcher, type Settled } from "../../infra/batching/micro-batcher.js";
import { type Db, hasRowLocks, isLedgerCreditViolation, writeTransaction } from "../../infra/db/database.js";
import type { DepositStatus } from "../../infra/db/schema.js";
import { receiveTestCallback } from "../certify/certify-run-repo.js";
import { type NewDepositEvent, newEventId } from "../deposits/deposit-repo.js";
import { OPEN, statusFromCallback } from "../deposits/deposit-state.js";
import { creditForPaid, orderAmounts } from "../deposits/paid-credit.js";
import type { CallbackIntegration } from "../psp-integrations/integration-repo.js";
import type { ReviewClaim, ReviewReason } from "../review/review-repo.js";
import { settle } from "../settlement/settle.js";
import {
  classifyResult,
  type ResultStatus,
  type SettlementOutcome,
  type SettlementPlanner,
  type SettlementResult,
} from "../settlement/settlement-planner.js";
import { type PlannedReview, retryingRaces, type SettlementRecords } from "../settlement/settlement-store.js";
import { checkSign, matchIntegration, verifyWithAnyToken } from "./callback-auth.js";
import { readCallbackBody } from "./callback-body.js";
import {
  amountDiffers,
  amountUnreadable,
  bodyRefused,
  type CallbackDiagnosis,
  currencyRefused,
  integrationNotFound,
  methodGone,
  orderNotFound,
  type Refusal,
  settledWithOtherAmount,
  signRefused,
  statusRefused,
  statusUnknown,
} from "./callback-detail.js";
import type { FloodGuard } from "./callback-flood-log.js";
import { callbackLogsWrite, insertCallbackLog, refusedBodyPrefix } from "./callback-log-repo.js";
import { type CallbackVerdict, claimOutcome, contradictsSettledAmount } from "./callback-outcome.js";

export type CallbackDeps = Pick<AppContext, "db" | "clock" | "metrics" | "callbackIntegrations" | "logger"> &
  Partial<Pick<AppContext, "deliveryBackpressure">>;

/** What arrived: the raw body as text, and the few request facts the log keeps. */
export type CallbackRequest = {
  rawBody: string | undefined;
  contentType: string | undefined;
  /** The `crm-pay-token` header. Compared, never stored or logged. */
  token: string | string[] | undefined;
  remoteAddr: string | null;
};

export type CallbackAnswer =
  | { httpStatus: 204 }
  | { httpStatus: 400 | 413; type: CallbackErrorType; detail?: string }
  /** Only to a conformance run's test order whose script answers 500 (modules/certify). */
  | { httpStatus: 500; type: CallbackErrorType; detail?: string }
  /** Refused before the token matched, over the flood limits: counted, not stored one by one. */
  | { httpStatus: 429; type: CallbackErrorType; retryAfterSeconds: number };

/** The judgement of one callback, before it is recorded. */
type Judgement = {
  verdict: CallbackVerdict;
  errorType: CallbackErrorType | null;
  merchantId: string | null;
  orderNo: string | null;
  tenantId: string | null;
  integrationId: string | null;
  depositId: string | null;
  status: number | null;
  amount: string | null;
  review: { reason: ReviewReason; claim: ReviewClaim } | null;
  /**
   * When the callback arrived, and its timeline entry's id taken then: the entry sorts before
   * the status change and credit it causes, although it is written with or after them.
   */
  receivedAt: number;
  eventId: string;
  /** Its log row's id, once recorded. */
  callbackLogId?: string;
  /** Why it was refused, in words: the answer's `detail` and the log's (callback-detail.ts). */
  detail: string | null;
  diagnosis: CallbackDiagnosis | null;
};

/**
 * An API-3 answer judged by this pipeline (modules/status-query): which query it answers. Its log
 * row has `source: "status_query"` and the backend's HTTP status, its timeline entry is the
 * query's (`status_query`), and what it settles has the cause `status_query`.
 */
export type StatusQueryMark = {
  tenantId: string;
  depositId: string;
  integrationId: string;
  orderNo: string;
  trigger: "schedule" | "expiry" | "manual";
  step: number | null;
  httpStatus: number;
};

/** A callback after the checks that need no order (1–4): refused already, or to be judged. */
type Screened = {
  req: CallbackRequest;
  judgement: Judgement;
  /** Set when checks 1–4 passed: what the order-level checks (5–9) need. */
  passed?: { cb: ParsedCallback; integ: CallbackIntegration };
  /**
   * Set when refused by checks 1–4. Its body is logged as a prefix only; unless the token
   * matched (only the sign failed), it also counts against the flood limits.
   */
  refused?: { tokenMatched: boolean };
  /** Set for an API-3 answer. */
  query?: StatusQueryMark;
  /** Set for a conformance run's test order: its scripted answer; nothing is applied or logged. */
  test?: CallbackAnswer;
};

export type CallbackHandler = (req: CallbackRequest) => Promise<CallbackAnswer>;

export type CallbackBatching = { maxBatch: number; concurrency: number };

/**
 * API-2 (docs/psp-open-api.md#api-2). Each request is screened on its own (body, merchant,
 * token, signature: checks 1–4, no database write), then joins the next **batch**: callbacks
 * that arrive while a batch is being written are judged and applied together, in arrival order,
 * in one transaction (group commit) through the settlement ({@link settle}): one read of their
 * orders, each callback judged against its order as the callbacks before it left it and its
 * result applied there by the planner, then every write (the changes, then the records: log
 * rows, the review items that point to them, timeline entries; one statement on PostgreSQL) in
 * the same commit. A callback is answered only after its batch committed.
 *
 * A batch that lost a race with another lane or process (a client's first wallet created by
 * both, a deadlock) is run again, read and all. If a batch fails otherwise (the ledger's unique
 * guard fired, another process changed an order between read and write), it rolls back whole
 * and every callback in it is retried alone, so one bad callback never costs another its
 * answer. A lone callback that rolled back on the ledger's unique guard is a duplicate: it is
 * recorded in a transaction of its own (docs/failure-modes.md#failure-mode-4). Only a storage failure of a lone callback answers 500, and the tenant backend retries.
 */
export function createCallbackHandler(
  deps: CallbackDeps,
  batching: CallbackBatching,
  flood?: FloodGuard,
): CallbackHandler {
  const batcher = createMicroBatcher<Screened, Judgement>((items) => {
    deps.metrics.callbackBatches.observe(items.length);
    return judgeAndApply(deps, items);
  }, batching);
  return async (req) => {
    let screened = await screenCallback(deps, req);
    if (screened.test) return screened.test;
    if (screened.refused) {
      // Anyone who knows a merchant_id can send these: rate-limited (never once the token
      // matched) and logged as a prefix of the body.
      const { judgement: sj } = screened;
      const type = sj.errorType as CallbackErrorType;
      const retryAfterSeconds = screened.refused.tokenMatched
        ? null
        : (flood?.refuse({
            remoteAddr: req.remoteAddr,
            contentType: req.contentType,
            rawBody: req.rawBody,
            errorType: type,
            integration:
              sj.tenantId && sj.integrationId && sj.merchantId
                ? { tenantId: sj.tenantId, integrationId: sj.integrationId, merchantId: sj.merchantId }
                : null,
          }) ?? null);
      if (retryAfterSeconds !== null) {
        deps.metrics.callbacks.inc({ verdict: "throttled", type });
        return { httpStatus: 429, type, retryAfterSeconds };
      }
      screened = { ...screened, req: { ...req, rawBody: refusedBodyPrefix(req.rawBody) } };
    } else if (screened.judgement.tenantId) {
      // While this tenant's webhook deliveries are behind, it waits (bounded) before it is applied.
      await deps.deliveryBackpressure?.admit(screened.judgement.tenantId);
    }
    const j = await batcher.submit(screened);
    deps.metrics.callbacks.inc({ verdict: j.verdict, type: j.errorType ?? "none" });
    if (!j.errorType) return { httpStatus: 204 };
    const status = CALLBACK_ERROR_TYPES[j.errorType].httpStatus as 400 | 413;
    return j.detail === null
      ? { httpStatus: status, type: j.errorType }
      : { httpStatus: status, type: j.errorType, detail: j.detail };
  };
}

/** One batch, and when it fails, each of its callbacks alone. */
async function judgeAndApply(deps: CallbackDeps, items: Screened[]): Promise<Settled<Judgement>[]> {
  try {
    return (await applyBatch(deps, items)).map((value) => ({ ok: true, value }));
  } catch (err) {
    if (items.length > 1) {
      const out: Settled<Judgement>[] = [];
      for (const item of items) out.push(...(await judgeAndApply(deps, [item])));
      return out;
    }
    if (!isLedgerCreditViolation(err)) return [{ ok: false, error: err }];
    // Rolled back on the ledger's unique guard: a duplicate. Judged and recorded as one, with
    // nothing applied.
    try {
      return (await runBatch(deps, items, false)).map((value) => ({ ok: true, value }));
    } catch (recordErr) {
      return [{ ok: false, error: recordErr }];
    }
  }
}

/**
 * {@link runBatch}, run again when it rolled back on a race with another lane or process: a
 * client's first wallet that another transaction created meanwhile (the run
 * read no wallet and planned a new one; read again, it finds the other's, committed by then),
 * or a deadlock. Costs nothing when nothing raced.
 */
async function applyBatch(deps: CallbackDeps, items: Screened[]): Promise<Judgement[]> {
  return retryingRaces(
    () => runBatch(deps, items, true),
    (attempt) =>
      deps.logger.debug({ attempt, callbacks: items.length }, "API-2 batch lost a race; reading again"),
  );
}

/**
 * Checks 5–9 of every screened callback, each result applied as it is judged, and the records,
 * in one settlement transaction. With `apply` false nothing is applied: every result is recorded
 * as a repeat (a lone callback that rolled back on the ledger's unique guard).
 */
async function runBatch(deps: CallbackDeps, items: Screened[], apply: boolean): Promise<Judgement[]> {
  const orderNos = items.flatMap((i) => (i.passed ? [i.passed.cb.orderNo] : []));
  const done = await writeTransaction(deps.db, (trx) =>
    settle(trx, deps, { orderNos }, (planner) => {
      const judged = items.map((item) =>
        item.passed
          ? judgeOrder(item.judgement, item.passed, planner, apply, item.query ? "status_query" : "callback")
          : item.judgement,
      );
      const records = callbackRecords(trx, deps, items, judged);
      return { value: judged.map((j, i) => ({ ...j, callbackLogId: records.log.ids[i] })), records };
    }),
  );
  if (done.credits > 0) deps.metrics.credits.inc(done.credits);
  return done.value;
}

/**
 * Every callback's log row, then the review items that point to them and the timeline entries
 * (the callback's own, before those of the changes it caused), for the settlement to write in
 * that order.
 */
function callbackRecords(
  trx: Db,
  deps: CallbackDeps,
  items: Screened[],
  judged: Judgement[],
): SettlementRecords & { log: { ids: string[] } } {
  const now = deps.clock.now();
  const log = callbackLogsWrite(
    trx,
    items.map(({ req, query }, i) => {
      const j = judged[i] as Judgement;
      return {
        source: query ? ("status_query" as const) : ("callback" as const),
        tenant_id: j.tenantId,
        integration_id: j.integrationId,
        deposit_id: j.depositId,
        merchant_id: j.merchantId,
        order_no: j.orderNo,
        content_type: req.contentType ?? null,
        raw_body: req.rawBody,
        verdict: j.verdict,
        error_type: j.errorType,
        error_detail: j.detail,
        diagnosis: j.diagnosis === null ? null : JSON.stringify(j.diagnosis),
        http_status: query
          ? query.httpStatus
          : j.errorType
            ? CALLBACK_ERROR_TYPES[j.errorType].httpStatus
            : 204,
        remote_addr: req.remoteAddr,
        created_at: now,
      };
    }),
  );
  const events: NewDepositEvent[] = [];
  const reviews: PlannedReview[] = [];
  for (const [i, j] of judged.entries()) {
    const { verdict, errorType, status, amount } = j;
    const callbackLogId = log.ids[i] as string;
    const query = items[i]?.query;
    if (query) {
      // Every answer of a query is on the queried order's timeline, whatever it says.
      // Refused before its order was looked at (garbage, another integration or order, a bad
      // sign): no answer at all, a failed query.
      const refused = items[i]?.refused !== undefined;
      const data = {
        trigger: query.trigger,
        step: query.step,
        outcome: refused ? "failed" : "found",
      } as const;
      const reason = refused ? `invalid_answer: ${errorType}` : errorType;
      events.push({
        tenantId: query.tenantId,
        depositId: query.depositId,
        id: j.eventId,
        now: j.receivedAt,
        event: { kind: "status_query", data: { ...data, reason, callbackLogId, verdict } },
      });
    }
    if (!j.tenantId || !j.depositId) continue;
    const at = { tenantId: j.tenantId, depositId: j.depositId };
    if (!query)
      events.push({
        ...at,
        id: j.eventId,
        now: j.receivedAt,
        event: { kind: "callback", data: { callbackLogId, status, amount, verdict, errorType } },
      });
    if (j.review)
      reviews.push({ ...at, ...j.review, callbackLogId, now, id: newId(), eventId: newEventId() });
  }
  return { log, reviews, events };
}

/**
 * Records a callback that never reached the handler (too large, unreadable): the body was not
 * read, so only the facts of the request are kept.
 */
export async function recordUnreadCallback(
  deps: Pick<CallbackDeps, "db" | "clock" | "metrics">,
  req: Omit<CallbackRequest, "rawBody" | "token">,
  type: "request_too_large" | "request_malformed",
  detail: string,
): Promise<void> {
  await insertCallbackLog(deps.db, {
    tenant_id: null,
    integration_id: null,
    deposit_id: null,
    merchant_id: null,
    order_no: null,
    content_type: req.contentType ?? null,
    raw_body: "",
    verdict: "rejected",
    error_type: type,
    error_detail: detail,
    diagnosis: JSON.stringify({ check: "body" }),
    http_status: CALLBACK_ERROR_TYPES[type].httpStatus,
    remote_addr: req.remoteAddr,
    created_at: deps.clock.now(),
  });
  deps.metrics.callbacks.inc({ verdict: "rejected", type });
}

/** A judgement before any check: rejected, nothing known yet, received now. */
function newJudgement(deps: Pick<CallbackDeps, "clock">): Judgement {
  return {
    verdict: "rejected",
    errorType: null,
    merchantId: null,
    orderNo: null,
    tenantId: null,
    integrationId: null,
    depositId: null,
    status: null,
    amount: null,
    review: null,
    receivedAt: deps.clock.now(),
    eventId: newEventId(),
    detail: null,
    diagnosis: null,
  };
}

/** Check 1, the body parses; what it claims is kept in `j` for the log. */
function readInto(j: Judgement, raw: string | undefined, contentType: string | undefined) {
  const read = readCallbackBody(raw, contentType);
  if (read.ok) {
    const cb = read.body.callback;
    j.merchantId = cb.merchantId;
    j.orderNo = cb.orderNo;
    j.status = cb.status;
    j.amount = cb.amountText;
  }
  return read;
}

/** Checks 1–4, in the spec's order (docs/psp-open-api.md#api-2-checks); the first that fails decides the answer. */
async function screenCallback(deps: CallbackDeps, req: CallbackRequest): Promise<Screened> {
  const j = newJudgement(deps);
  const reject = (type: CallbackErrorType, why: Refusal, tokenMatched = false): Screened => ({
    req,
    judgement: { ...j, errorType: type, ...why },
    refused: { tokenMatched },
  });

  // 1. The body parses: one flat JSON object (or form), right types, mandatory keys.
  const read = readInto(j, req.rawBody, req.contentType);
  if (!read.ok) return reject("request_malformed", bodyRefused(read.message));
  const cb = read.body.callback;

  // 2–3. The integration, by merchant_id, enabled; the header token is one it accepts now
  //      (current, or previous in its grace period).
  const now = deps.clock.now();
  const match = await matchIntegration(deps, cb.merchantId, req.token, now);
  if (match.integ) {
    j.tenantId = match.integ.tenant_id;
    j.integrationId = match.integ.id;
  }
  if (!match.ok) return reject(match.type, match.why);
  const { integ, token } = match;

  // A conformance run's test order goes to the run, whatever its sign (the run judges it). Only
  // while a run of this integration lives is there a test order to look for.
  const test = await certifyAnswer(deps, integ, token, cb.orderNo, req, now);
  if (test) return { req, judgement: j, test };

  // 4. The signature, over the raw body, with the token that matched.
  const refused = checkSign(deps, read.body, token, {
    api: "API-2",
    merchantId: cb.merchantId,
    number: cb.orderNo,
  });
  if (refused) return reject("psp_token_invalid", refused, true);
  return { req, judgement: j, passed: { cb, integ } };
}

/**
 * While a conformance run of this integration lives, the scripted answer to a callback about one
 * of its test orders (or test payouts: the number is either); undefined otherwise.
 */
export async function certifyAnswer(
  deps: Pick<CallbackDeps, "db">,
  integ: CallbackIntegration,
  token: string,
  number: string,
  req: Pick<CallbackRequest, "rawBody" | "contentType">,
  now: number,
): Promise<CallbackAnswer | undefined> {
  if (integ.certifyUntil === null || integ.certifyUntil <= now) return undefined;
  const answer = await receiveTestCallback(deps.db, {
    integrationId: integ.id,
    orderNo: number,
    rawBody: req.rawBody ?? "",
    contentType: req.contentType ?? null,
    token: token === integ.token ? "current" : "previous",
    now,
  });
  if (!answer) return undefined;
  return answer.status === 204
    ? { httpStatus: 204 }
    : { httpStatus: answer.status, type: answer.type, ...(answer.detail ? { detail: answer.detail } : {}) };
}

/**
 * Checks 5–9 against the order as the callbacks before it in the batch left it (status, and the
 * paid amount a success settled it with), exactly as if they had come one by one; a result that
 * passes them is applied there, so its outcome is judged where it is known.
 */
function judgeOrder(
  screened: Judgement,
  { cb, integ }: { cb: ParsedCallback; integ: CallbackIntegration },
  planner: SettlementPlanner,
  apply: boolean,
  cause: "callback" | "status_query",
): Judgement {
  const j: Judgement = { ...screened };
  const reject = (type: CallbackErrorType, why: Refusal): Judgement => ({
    ...j,
    verdict: "rejected",
    errorType: type,
    ...why,
  });

  // 5. The order, under THIS integration: another integration's or tenant's order is unknown.
  const found = planner.find({ orderNo: cb.orderNo });
  const dep =
    found && found.integration_id === integ.id && found.tenant_id === integ.tenant_id
      ? planner.current(found)
      : undefined;
  if (!dep) return reject("payment_not_found", orderNotFound(cb.orderNo));
  j.depositId = dep.id;

  // 6. The order's deposit method still exists.
  if (dep.live_method_id === null) return reject("deposit_method_not_found", methodGone());

  // 7. Currency.
  if (cb.currency !== dep.currency)
    return reject("payment_currency_not_allowed", currencyRefused(cb.currency, dep.currency));

  // 8. Amount, in the order's minor units (never floating point), then the amount policy.
  // The order's amount as text, for a refusal's words only (not on the path of an accepted callback).
  const ordered = () => formatAmount(BigInt(dep.amount_minor), dep.decimals);
  const parsed = tryParseAmount(cb.amountText, dep.decimals);
  if (!parsed.ok)
    return reject("payment_amount_not_allowed", amountUnreadable(cb.amountText, dep.decimals, ordered()));
  const paid = parsed.minor;
  const mismatch = paid !== BigInt(dep.amount_minor);
  // The credit a success earns: the order's, or, when another amount was paid and is credited
  // (policy credit_paid, or an admin crediting a held payment), paid minus the fee the order's
  // stored rule gives on it (paid-credit.ts).
  // With a quote the net converts at the order's locked rate, into the account currency.
  const { creditMinor: credit, markupMinor } = creditForPaid(paid, orderAmounts(dep));
  const claim = (depositStatus: DepositStatus): ReviewClaim => ({
    status: cb.status,
    amount: cb.amountText,
    paidMinor: paid.toString(),
    creditMinor: credit.toString(),
    transactionId: cb.transactionId ?? null,
    time: cb.time,
    depositStatus,
  });
  if (contradictsSettledAmount(dep, cb.status, paid)) {
    // A success with another amount than the one the order succeeded with: perhaps a second,
    // real payment. Refused as the first failing check says (amount under `exact`, else status),
    // and kept for an admin.
    const byAmount = mismatch && integ.amount_policy === "exact";
    const settledWith = formatAmount(BigInt(dep.paid_amount_minor ?? dep.amount_minor), dep.decimals);
    return {
      ...reject(
        byAmount ? "payment_amount_not_allowed" : "payment_status_not_pending",
        settledWithOtherAmount(byAmount ? "amount" : "status", cb.amountText, settledWith),
      ),
      verdict: "review",
      review: { reason: "conflict", claim: claim(dep.status) },
    };
  }
  if (mismatch && integ.amount_policy === "exact") {
    // Refused, but a reported payment is never lost: an admin sees it (unless already credited).
    const keep = cb.status === 1 && dep.status !== "succeeded";
    return {
      ...reject("payment_amount_not_allowed", amountDiffers(cb.amountText, ordered())),
      ...(keep ? { verdict: "review", review: { reason: "amount_mismatch", claim: claim(dep.status) } } : {}),
    };
  }

  // 9. Status: 0, 1 or 2, and allowed from the order's status.
  if (!isCallbackStatus(cb.status)) return reject("payment_status_not_allowed", statusUnknown(cb.status));
  const requested = statusFromCallback(cb.status) as ResultStatus;
  const common = {
    tenantId: integ.tenant_id,
    depositId: dep.id,
    paidAmountMinor: paid,
    ...(cb.transactionId !== undefined ? { transactionId: cb.transactionId } : {}),
    pspTime: cb.time,
    cause,
  };
  const settled = (result: SettlementResult): SettlementOutcome =>
    apply ? planner.apply(result) : { kind: "repeat" };
  const judged = (result: SettlementOutcome): Judgement => {
    const out = claimOutcome(requested, result);
    const current = result.kind === "conflict" || result.kind === "late" ? result.current : dep.status;
    const why = out.errorType ? statusRefused(requested, result) : null;
    return {
      ...j,
      ...(why ?? {}),
      verdict: out.verdict,
      errorType: out.errorType,
      review: out.review ? { reason: out.review, claim: claim(current) } : null,
    };
  };

  if (mismatch && integ.amount_policy === "review" && requested === "succeeded" && OPEN.has(dep.status)) {
    // Policy `review`: hold the order (pending → processing) and let an admin decide.
    const held = settled({ ...common, to: "processing" });
    if (held.kind === "applied" || held.kind === "repeat") {
      return { ...j, verdict: "review", review: { reason: "amount_mismatch", claim: claim(dep.status) } };
    }
    // The order moved on meanwhile: judge the success against where it is now.
    return judged(held.kind === "unknown" ? held : classifyResult(held.current, "succeeded"));
  }
  return judged(
    settled({
      ...common,
      to: requested,
      ...(requested === "succeeded" ? { creditMinor: credit, markupMinor } : {}),
      ...(requested === "failed" ? { failureReason: "psp_reported_failure" } : {}),
    }),
  );
}

/** What became of an API-3 answer judged as a callback. */
export type StatusAnswerJudgement = {
  verdict: CallbackVerdict;
  errorType: CallbackErrorType | null;
  callbackLogId: string | null;
  /** Refused before its order was looked at (checks 1, 2, the sign, the order number). */
  refused: boolean;
  /**
   * The backend's answer is authentic (its integration, sign and order are the queried ones) and
   * reports a final status (success or failure), whatever the order-level checks made of it.
   */
  final: boolean;
};

/**
 * Judges the `data` of an API-3 answer (docs/psp-open-api.md#api-3-status-query) exactly as an
 * API-2 callback: checks 1, 2 and 4–9 and the settlement's apply step, batched with other answers
 * only (no flood guard). Check 2 must find the integration that was queried, and its order number must be the
 * queried order's; check 3 (the header token, which an answer has none of) is replaced by the
 * sign verified with every token the integration accepts now, each tried in full.
 */
export async function judgeStatusAnswer(
  deps: CallbackDeps,
  dataText: string,
  query: StatusQueryMark,
): Promise<StatusAnswerJudgement> {
  const screened = await screenStatusAnswer(deps, dataText, query);
  const j = await statusAnswers(deps)(screened);
  return {
    verdict: j.verdict,
    errorType: j.errorType,
    callbackLogId: j.callbackLogId ?? null,
    refused: screened.refused !== undefined,
    final: screened.passed !== undefined && (j.status === 0 || j.status === 1),
  };
}

/**
 * API-3 answers are group-committed as callbacks are (their own batcher, over the same
 * judge-and-apply), one batcher per database handle, so per AppContext: under a backlog of due
 * queries (bench B5) one transaction settles many answers.
 */
const statusAnswerBatchers = new WeakMap<Db, (s: Screened) => Promise<Judgement>>();
function statusAnswers(deps: CallbackDeps): (s: Screened) => Promise<Judgement> {
  let submit = statusAnswerBatchers.get(deps.db);
  if (!submit) {
    const batcher = createMicroBatcher<Screened, Judgement>((items) => judgeAndApply(deps, items), {
      maxBatch: 64,
      concurrency: hasRowLocks(deps.db) ? 2 : 1,
    });
    submit = (item) => batcher.submit(item);
    statusAnswerBatchers.set(deps.db, submit);
  }
  return submit;
}

async function screenStatusAnswer(
  deps: CallbackDeps,
  dataText: string,
  query: StatusQueryMark,
): Promise<Screened> {
  const req: CallbackRequest = {
    rawBody: dataText,
    contentType: "application/json",
    token: undefined,
    remoteAddr: null,
  };
  const j = newJudgement(deps);
  const reject = (type: CallbackErrorType, why: Refusal): Screened => ({
    req: { ...req, rawBody: refusedBodyPrefix(dataText) },
    judgement: { ...j, errorType: type, ...why },
    refused: { tokenMatched: false },
    query,
  });
  const read = readInto(j, dataText, "application/json");
  if (!read.ok) return reject("request_malformed", bodyRefused(read.message));
  const cb = read.body.callback;
  const now = deps.clock.now();
  const integ = await deps.callbackIntegrations.find(cb.merchantId, now);
  if (!integ?.enabled || integ.id !== query.integrationId || integ.tenant_id !== query.tenantId)
    return reject("psp_setting_not_found", integrationNotFound());
  j.tenantId = integ.tenant_id;
  j.integrationId = integ.id;
  // Every accepted token is tried in full (each comparison constant-time): none short-circuits.
  const { valid, first } = verifyWithAnyToken(read.body, integ, now);
  if (!valid) return reject("psp_token_invalid", signRefused(first));
  // An answer about another order than the one asked about settles nothing.
  if (cb.orderNo !== query.orderNo) return reject("payment_not_found", orderNotFound(cb.orderNo));
  return { req, judgement: j, passed: { cb, integ }, query };
}
