import { formatAmount } from "@psphub/protocol";
import type { PaymentRequest, PayoutRequest, SendCallbackResult } from "@psphub/sdk";

// Server-rendered pages of the simulator: no script, no external assets, every value escaped.

/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One callback the simulator sent (or will send) for an order. */
export interface SimEvent {
  readonly id: number;
  /** What the person asked for, e.g. "Pay", "Processing, then success (1 of 2)". */
  readonly label: string;
  readonly status: 0 | 1 | 2;
  readonly amount: string;
  /** When it was (or will be) sent, Unix ms. */
  at: number;
  /** `lost`: not sent, by the `lost_callback` mode (only a status query can tell the CRM). */
  state: "scheduled" | "sending" | "sent" | "lost" | "error";
  result?: SendCallbackResult;
  /** Why it could not be sent at all (a bad amount, a cancelled timer). */
  error?: string;
}

/** An order the simulator took through API-1. */
export interface SimOrder {
  readonly request: PaymentRequest;
  /** The page's access key: the payment page URL carries it, every action must send it back. */
  readonly key: string;
  readonly transactionId: string;
  readonly createdAt: number;
  readonly events: SimEvent[];
  /**
   * Where the payment stands on the simulator's side, as its status query answers: set by each
   * outcome when its callback is due, whether or not the callback reaches the CRM. None yet: open.
   */
  outcome?: { readonly status: 0 | 1 | 2; readonly amount: string; readonly time: number };
}

/** A payout the simulator took through API-4 (docs/psp-open-api.md#api-4). */
export interface SimPayout {
  readonly request: PayoutRequest;
  /** The payout page's form key: every action must send it back (a page of another site cannot). */
  readonly key: string;
  readonly transactionId: string;
  readonly createdAt: number;
  /** The API-5 callbacks sent (or due, or dropped) for it. */
  readonly events: SimEvent[];
  /**
   * Where the payout stands on the simulator's side, as its status query answers: set by each
   * button when its callback is due, whether or not the callback reaches the CRM. None yet: open.
   */
  outcome?: { readonly status: 0 | 1 | 2; readonly time: number };
}

export const STYLESHEET = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; background: #f4f5f7; color: #1d2330; }
main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.sub { color: #5b6475; margin: 0 0 1.5rem; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: .5rem; padding: 1rem 1.25rem; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eceef2; vertical-align: top; }
th { color: #5b6475; font-weight: 500; width: 30%; }
form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
button { font: inherit; padding: .45rem 1rem; border-radius: .35rem; border: 1px solid #2457c5; background: #2f6be0; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #2457c5; }
button.danger { border-color: #b3261e; background: #c8372d; }
input { font: inherit; padding: .35rem .5rem; width: 7rem; border: 1px solid #c5cad3; border-radius: .3rem; }
code, pre { font-family: ui-monospace, monospace; font-size: .85rem; }
pre { white-space: pre-wrap; word-break: break-all; background: #f4f5f7; padding: .5rem; border-radius: .3rem; }
.ok { color: #1e7d32; } .warn { color: #9a6700; } .bad { color: #b3261e; }
@media (prefers-color-scheme: dark) {
  body { background: #161a22; color: #e4e7ec; }
  section { background: #1f2430; border-color: #2e3545; }
  th, .sub { color: #9aa3b5; } th, td { border-color: #2e3545; }
  pre { background: #161a22; } input { background: #161a22; color: inherit; border-color: #3a4254; }
  button.secondary { background: transparent; }
}
`;

/** The order's amount for people: with the currency's decimals when known (`100.10`), else as sent. */
export function displayAmount(r: PaymentRequest): string {
  return r.amountMinor !== undefined && r.exponent !== undefined
    ? formatAmount(r.amountMinor, r.exponent)
    : r.amount;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/static/sim.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** The CRM's answer in a few words, with a CSS class. */
export function describeResult(result: SendCallbackResult): { text: string; tone: "ok" | "warn" | "bad" } {
  const tries = result.attempts === 1 ? "" : ` after ${result.attempts} attempts`;
  switch (result.kind) {
    case "done":
      return { text: `accepted (HTTP ${result.status})${tries}`, tone: "ok" };
    case "done_conflicting":
      return {
        text: `conflict: ${result.type} (the order already has another final status; the CRM keeps it for review)`,
        tone: "warn",
      };
    case "rejected":
      return { text: `rejected: HTTP ${result.status}${result.type ? ` ${result.type}` : ""}`, tone: "bad" };
    case "gave_up":
      return { text: `no answer: ${result.lastError}${tries}`, tone: "bad" };
  }
}

const LOST =
  "not sent: the lost_callback mode drops every callback; only a status query (API-3) tells the CRM";
const PAYOUT_LOST =
  "not sent: the payout_lost_callback mode drops every API-5 callback; only the payout status query tells the CRM";

const STATUS_NAME = { 0: "failed (0)", 1: "success (1)", 2: "processing (2)" } as const;

function eventRow(event: SimEvent, highlight: boolean, lost = LOST): string {
  let answer: string;
  if (event.result) {
    const { text, tone } = describeResult(event.result);
    answer = `<span class="${tone}">${esc(text)}</span>`;
  } else if (event.error) {
    answer = `<span class="bad">${esc(event.error)}</span>`;
  } else if (event.state === "lost") {
    answer = `<span class="warn">${esc(lost)}</span>`;
  } else if (event.state === "scheduled") {
    answer = `scheduled for ${esc(new Date(event.at).toISOString())}`;
  } else {
    answer = "sending…";
  }
  const mark = highlight ? " ◀" : "";
  return `<tr><td>${esc(event.label)}${mark}</td><td>${esc(STATUS_NAME[event.status])}</td><td>${esc(event.amount)}</td><td>${answer}</td></tr>`;
}

function historySection(
  order: { readonly events: readonly SimEvent[] },
  highlight?: number,
  lost = LOST,
): string {
  if (order.events.length === 0) return "";
  return `<section>
<h2>Callbacks sent</h2>
<table>
<tr><th>action</th><th>status</th><th>amount</th><th>CRM answer</th></tr>
${order.events.map((e) => eventRow(e, e.id === highlight, lost)).join("\n")}
</table>
</section>`;
}

function orderTable(order: SimOrder): string {
  const r = order.request;
  const rows: Array<[string, string | undefined]> = [
    ["Order", r.orderNo],
    ["Amount", `${displayAmount(r)} ${r.currency}`],
    ["Merchant id", r.merchantId],
    ["Client", r.userName ?? r.userId],
    ["Email", r.email],
    ["Transaction id", order.transactionId],
    ...Object.entries(r.custom).map(([k, v]): [string, string] => [k, v]),
  ];
  return `<table>
${rows
  .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== "")
  .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
  .join("\n")}
</table>`;
}

function action(order: SimOrder, name: string, button: string, extra = "", className = ""): string {
  const path = `/pay/page/${encodeURIComponent(order.request.orderNo)}/action`;
  return `<form method="post" action="${esc(path)}">
<input type="hidden" name="key" value="${esc(order.key)}">
<input type="hidden" name="action" value="${esc(name)}">
${extra}<button type="submit"${className ? ` class="${className}"` : ""}>${esc(button)}</button>
</form>`;
}

/** The hosted payment page of one order, with a button per outcome. */
export function paymentPage(
  order: SimOrder,
  processingSeconds: number,
  lateSeconds: number,
  lostCallbacks = false,
): string {
  const r = order.request;
  const seconds = (name: string, value: number) =>
    `<input type="number" name="${name}" value="${value}" min="0" max="3600" step="1" aria-label="seconds"> s `;
  const body = `
<h1>Pay ${esc(displayAmount(r))} ${esc(r.currency)}</h1>
<p class="sub">psphub PSP simulator: every button sends a signed API-2 callback to the CRM and shows its answer.</p>
${lostCallbacks ? `<p class="warn">Mode lost_callback: the buttons change this order on the simulator's side only; no callback is sent, so only the CRM's status query (API-3) can settle it.</p>` : ""}
<section>
${orderTable(order)}
</section>
<section>
<h2>Outcome</h2>
${action(order, "success", "Pay")}
${action(order, "fail", "Decline", "", "danger")}
${action(order, "processing", "Processing, then success", `after ${seconds("seconds", processingSeconds)}`, "secondary")}
${action(order, "amount", "Pay a different amount", `<input type="text" name="amount" value="${esc(r.amount)}" aria-label="amount" inputmode="decimal"> `, "secondary")}
${action(order, "twice", "Send the success callback twice", "", "secondary")}
${action(order, "late", "Send the success callback late", `after ${seconds("seconds", lateSeconds)}`, "secondary")}
</section>
${historySection(order)}`;
  return layout(`Pay ${displayAmount(r)} ${r.currency}`, body);
}

/** What one action did: the CRM's answer(s) and the callback body, then the order's history. */
export function resultPage(order: SimOrder, events: readonly SimEvent[]): string {
  const r = order.request;
  const back = `/pay/page/${encodeURIComponent(r.orderNo)}?key=${encodeURIComponent(order.key)}`;
  const parts = events.map((event) => {
    let headline: string;
    let detail = "";
    if (event.result) {
      const { text, tone } = describeResult(event.result);
      headline = `<p class="${tone}"><strong>${esc(event.label)}</strong>: the CRM answered ${esc(text)}.</p>`;
      detail = `<p>Posted to <code>${esc(event.result.url)}</code>:</p><pre>${esc(event.result.body)}</pre>`;
      if (event.result.kind === "rejected" && event.result.response !== "") {
        detail += `<p>Answer body:</p><pre>${esc(event.result.response)}</pre>`;
      }
    } else if (event.error) {
      headline = `<p class="bad"><strong>${esc(event.label)}</strong>: not sent: ${esc(event.error)}</p>`;
    } else if (event.state === "lost") {
      headline = `<p class="warn"><strong>${esc(event.label)}</strong>: ${esc(LOST)}.</p>`;
    } else {
      headline = `<p><strong>${esc(event.label)}</strong>: scheduled for ${esc(new Date(event.at).toISOString())}. Reload the payment page to see the answer.</p>`;
    }
    return headline + detail;
  });
  const body = `
<h1>Order ${esc(r.orderNo)}</h1>
<p class="sub">${esc(displayAmount(r))} ${esc(r.currency)}</p>
<section>
${parts.join("\n")}
<p><a href="${esc(back)}">Back to the payment page</a></p>
</section>
${historySection(order, events[0]?.id)}`;
  return layout(`Order ${r.orderNo}`, body);
}

const STATUS_WORD = { 0: "failed", 1: "paid", 2: "processing" } as const;

/** A payout's status on the simulator's side, in a word. */
const payoutState = (p: SimPayout) => (p.outcome === undefined ? "open" : STATUS_WORD[p.outcome.status]);

/** The payout's amount for people: with the currency's decimals when known, else as sent. */
function payoutAmount(r: PayoutRequest): string {
  return r.amountMinor !== undefined && r.exponent !== undefined
    ? formatAmount(r.amountMinor, r.exponent)
    : r.amount;
}

/** Where a payout's page is (relative to the simulator). */
export const payoutPath = (payoutNo: string) => `/payout/${encodeURIComponent(payoutNo)}`;

/** The newest payouts shown on the home page. */
const HOME_PAYOUTS = 50;

/** The simulator's home page: what it is, where it sends callbacks (never the token), its payouts. */
export function homePage(info: {
  callbackEndpoint: string;
  payoutCallbackEndpoint: string;
  orders: number;
  payouts: readonly SimPayout[];
  publicUrl: string;
  modes: readonly string[];
}): string {
  const newest = info.payouts.slice(-HOME_PAYOUTS).reverse();
  const rows = newest
    .map(
      (p) =>
        `<tr><td><a href="${esc(payoutPath(p.request.payoutNo))}"><code>${esc(p.request.payoutNo)}</code></a></td><td>${esc(payoutAmount(p.request))} ${esc(p.request.currency)}</td><td>${esc(payoutState(p))}</td><td>${esc(new Date(p.createdAt).toISOString())}</td></tr>`,
    )
    .join("\n");
  const payouts =
    info.payouts.length === 0
      ? "<p>No payout yet: the CRM sends one by API-4 when a withdrawal through this integration is approved.</p>"
      : `<table>
<tr><th>payout</th><th>amount</th><th>status</th><th>received</th></tr>
${rows}
</table>${info.payouts.length > HOME_PAYOUTS ? `<p>The newest ${HOME_PAYOUTS} of ${esc(info.payouts.length)}.</p>` : ""}`;
  return layout(
    "psphub PSP simulator",
    `
<h1>psphub PSP simulator</h1>
<p class="sub">A reference tenant backend built on @psphub/sdk.</p>
<section>
<table>
<tr><th>API-1</th><td><code>POST ${esc(info.publicUrl)}/pay/url</code> (set the integration's APP_URL to <code>${esc(info.publicUrl)}</code>)</td></tr>
<tr><th>API-2</th><td>callbacks go to <code>${esc(info.callbackEndpoint)}</code></td></tr>
<tr><th>API-3</th><td><code>POST ${esc(info.publicUrl)}/pay/status</code> answers from the simulator's own state</td></tr>
<tr><th>API-4</th><td><code>POST ${esc(info.publicUrl)}/payout/request</code> takes payouts (each gets a payout page)</td></tr>
<tr><th>API-5</th><td>payout callbacks go to <code>${esc(info.payoutCallbackEndpoint)}</code></td></tr>
<tr><th>Payout status</th><td><code>POST ${esc(info.publicUrl)}/payout/status</code> answers from the simulator's own state</td></tr>
<tr><th>Modes</th><td>${info.modes.length === 0 ? "none" : esc(info.modes.join(", "))}</td></tr>
<tr><th>Orders</th><td>${esc(info.orders)} in memory</td></tr>
</table>
</section>
<section>
<h2>Payouts</h2>
${payouts}
</section>`,
  );
}

/** The page of one payout: its request, its status here, a button per API-5 status, its callbacks. */
export function payoutPage(payout: SimPayout, lostCallbacks = false): string {
  const r = payout.request;
  const rows: Array<[string, string | undefined]> = [
    ["Payout", r.payoutNo],
    ["Amount", `${payoutAmount(r)} ${r.currency}`],
    ["Merchant id", r.merchantId],
    ["Client", r.userId],
    ["Transaction id", payout.transactionId],
    ["Status here", payoutState(payout)],
    ...(r.test ? ([["Test payout", "yes (psphub certify)"]] as Array<[string, string]>) : []),
    ...Object.entries(r.fields).map(([k, v]): [string, string] => [k, v]),
  ];
  const table = rows
    .filter((row): row is [string, string] => row[1] !== undefined && row[1] !== "")
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join("\n");
  const button = (
    action: string,
    label: string,
    className = "",
  ) => `<form method="post" action="${esc(`${payoutPath(r.payoutNo)}/action`)}">
<input type="hidden" name="key" value="${esc(payout.key)}">
<input type="hidden" name="action" value="${esc(action)}">
<button type="submit"${className ? ` class="${className}"` : ""}>${esc(label)}</button>
</form>`;
  const body = `
<h1>Pay out ${esc(payoutAmount(r))} ${esc(r.currency)}</h1>
<p class="sub">psphub PSP simulator: every button sends a signed API-5 callback to the CRM and shows its answer.</p>
${lostCallbacks ? `<p class="warn">Mode payout_lost_callback: the buttons change this payout on the simulator's side only; no callback is sent, so only the CRM's payout status query can settle it.</p>` : ""}
<section>
<table>
${table}
</table>
</section>
<section>
<h2>Outcome</h2>
${button("paid", "Pay")}
${button("failed", "Fail", "danger")}
${button("processing", "Processing", "secondary")}
</section>
${historySection(payout, payout.events.at(-1)?.id, PAYOUT_LOST)}
<p><a href="/">All payouts</a></p>`;
  return layout(`Payout ${r.payoutNo}`, body);
}

/** A plain message page (404, bad request). */
export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${esc(title)}</h1>\n<section><p>${esc(message)}</p></section>`);
}
