import {
  CALLBACK_ERROR_TYPES,
  type CallbackStatusValue,
  callbackStatusName,
  type FlatParams,
  isCallbackErrorType,
  isCallbackStatus,
  ProtocolError,
  parseCallback,
  parseFlatJson,
  parseStatusAnswer,
  STATUS_QUERY_PATH,
  sign,
  signStatusQuery,
  stringA,
  verifyDetailed,
} from "@psphub/protocol";
import { type Callback, encodeCallback, SdkError, type SendCallbackResult, sendCallback } from "@psphub/sdk";
import { type Command, requireString, UsageError } from "./command.js";

// `psphub sign`, `psphub verify`, `psphub callback`, `psphub status`: the PSP Open API from a
// terminal, for tenant developers debugging an integration. They touch no database and need no
// configuration.

/** Where the commands read and write; tests pass their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** The whole of standard input (for `--body -`). */
  readStdin(): Promise<string>;
  /** The fetch `callback` and `status` post with (default: the global one). */
  readonly fetch?: typeof globalThis.fetch;
}

const STDIN_LIMIT = 1024 * 1024;

async function readProcessStdin(): Promise<string> {
  if (process.stdin.isTTY) console.error("(reading the body from standard input; end it with Ctrl-D)");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > STDIN_LIMIT) throw new UsageError("the body on standard input is larger than 1 MiB");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export const processIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  readStdin: readProcessStdin,
};

const str = (description: string) => ({ type: "string" as const, description });

/** The body from `--body JSON`, or standard input for `--body -` or no `--body` (when allowed). */
async function bodyFrom(
  values: Record<string, unknown>,
  io: CliIo,
  stdinWhenMissing: boolean,
): Promise<string> {
  const body = values.body;
  if (body === "-" || (body === undefined && stdinWhenMissing))
    return (await io.readStdin()).replace(/\r?\n$/, "");
  if (typeof body !== "string" || body === "")
    throw new UsageError("--body is required (JSON text, or - for stdin)");
  return body;
}

/** Parses a flat JSON body, or explains on stderr why not (answers undefined). */
function parseBody(
  name: string,
  raw: string,
  io: CliIo,
): { params: FlatParams; literals: Record<string, string> } | undefined {
  try {
    return parseFlatJson(raw);
  } catch (error) {
    if (error instanceof ProtocolError) {
      io.err(`psphub ${name}: the body is not a flat JSON object (${error.code}): ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

const LABEL_WIDTH = 26;
const line = (label: string, value: string) => `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`;

/** Whole seconds from a flag, or `fallback` when it is absent. */
function seconds(values: Record<string, unknown>, name: string, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !/^[0-9]{1,6}$/.test(v)) {
    throw new UsageError(`--${name} must be a whole number of seconds`);
  }
  return Number(v);
}

/** `--time`: Unix milliseconds, default now. */
function timeFlag(values: Record<string, unknown>): number {
  const text = values.time;
  if (text === undefined) return Date.now();
  if (typeof text !== "string" || !/^[0-9]{1,16}$/.test(text)) {
    throw new UsageError("--time must be Unix milliseconds");
  }
  return Number(text);
}

/** `{APP_URL}/pay/status`, whether or not APP_URL ends with `/` (a path prefix is kept). */
function statusQueryUrl(appUrl: string): string {
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch {
    throw new UsageError(`--app-url ${JSON.stringify(appUrl)} is not an absolute URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`--app-url must be http: or https:, not ${url.protocol}`);
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    throw new UsageError("--app-url must not carry user info, a query or a fragment");
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (!path.endsWith(STATUS_QUERY_PATH)) url.pathname = `${path}${STATUS_QUERY_PATH}`;
  return url.href;
}

/** Builds the protocol commands around `io`. */
export function createProtocolCommands(io: CliIo = processIo): {
  signCommand: Command;
  verifyCommand: Command;
  callbackCommand: Command;
  statusCommand: Command;
} {
  const signCommand: Command = {
    name: "sign",
    summary: "print the StringA and the sign of a body (API-1 or API-2)",
    usage: `sign --token T [--body JSON | --body -]   (no --body: read stdin)`,
    options: {
      token: str("the integration's token (the signing key)"),
      body: str("the JSON body; - or absent reads standard input; a sign in it is ignored"),
    },
    async run(values) {
      const token = requireString(values, "token");
      const raw = await bodyFrom(values, io, true);
      const parsed = parseBody("sign", raw, io);
      if (!parsed) return 1;
      const { params, literals } = parsed;
      io.out(line("StringA", stringA(params, { literals })));
      io.out(line("sign", sign(params, token, { literals })));
      const parsedForm = stringA(params);
      if (parsedForm !== stringA(params, { literals })) {
        // Numbers written like 100.0: a signer that re-prints parsed numbers gets this one.
        io.out(line("StringA (parsed numbers)", parsedForm));
        io.out(line("sign (parsed numbers)", sign(params, token)));
        io.out("(the CRM accepts either; sign the literal text you send)");
      }
      return 0;
    },
  };

  const verifyCommand: Command = {
    name: "verify",
    summary: "check a body's sign with a token; shows the StringA it computed",
    usage: "verify --token T --body JSON [--sign S]",
    options: {
      token: str("the integration's token"),
      body: str("the JSON body exactly as sent (- reads standard input)"),
      sign: str("the sign to check (default: the body's own sign)"),
    },
    async run(values) {
      const token = requireString(values, "token");
      const raw = await bodyFrom(values, io, false);
      const given = typeof values.sign === "string" ? values.sign : undefined;
      const parsed = parseBody("verify", raw, io);
      if (!parsed) return 1;
      const { params, literals } = parsed;
      const result = verifyDetailed(params, token, given, { literals });
      const shown = [line("StringA", result.stringA)];
      if (result.stringAParsed !== undefined)
        shown.push(line("StringA (parsed numbers)", result.stringAParsed));

      if (result.valid) {
        const provided = (given ?? String(params.sign)).toUpperCase();
        const form =
          provided === sign(params, token, { literals }) ? "the literal number text" : "the parsed numbers";
        io.out(`valid (signed over ${form})`);
        for (const l of shown) io.out(l);
        return 0;
      }
      const why = {
        missing_sign: "the body has no sign (put one in the body or pass --sign)",
        malformed_sign: "the sign is not 40 hexadecimal characters",
        empty_token: "the token is empty",
        mismatch: "the sign matches neither form of StringA with this token",
      }[result.reason ?? "mismatch"];
      io.out(`invalid: ${why}`);
      for (const l of shown) io.out(l);
      if (
        result.reason === "mismatch" ||
        result.reason === "missing_sign" ||
        result.reason === "malformed_sign"
      ) {
        io.out(line("expected sign", sign(params, token, { literals })));
        if (result.stringAParsed !== undefined) io.out(line("expected sign (parsed)", sign(params, token)));
      }
      return 1;
    },
  };

  const callbackCommand: Command = {
    name: "callback",
    summary: "send a signed API-2 callback and print the CRM's answer",
    usage:
      "callback --url U --token T --merchant M --order O --status 1 --amount A --currency C " +
      "[--transaction-id X] [--user-id U] [--time MS] [--retry-seconds N] [--timeout-seconds N]",
    options: {
      url: str("CRM_Callback_URL (/pay/callback is appended) or the full callback URL"),
      token: str("the integration's token"),
      merchant: str("merchant_id of the integration"),
      order: str("order_no"),
      status: str("0 or failed, 1 or success, 2 or processing"),
      amount: str("amount paid, decimal text (sent as written: 100.10 stays 100.10)"),
      currency: str("currency code, e.g. USD"),
      "transaction-id": str("your transaction id (optional)"),
      "user-id": str("the client's CRM id (optional)"),
      time: str("completion time in Unix milliseconds (default: now)"),
      "retry-seconds": str("retry network errors and 5xx for this long (default: no retries)"),
      "timeout-seconds": str("time allowed for one attempt (default 10)"),
    },
    async run(values) {
      const statusText = requireString(values, "status");
      const status = ({ "0": 0, "1": 1, "2": 2, failed: 0, success: 1, processing: 2 } as const)[
        statusText as "0"
      ] as CallbackStatusValue | undefined;
      if (status === undefined) throw new UsageError("--status must be 0/failed, 1/success or 2/processing");
      const time = timeFlag(values);
      const callback: Callback = {
        merchantId: requireString(values, "merchant"),
        orderNo: requireString(values, "order"),
        amount: requireString(values, "amount"),
        currency: requireString(values, "currency"),
        status,
        time,
        ...(typeof values["transaction-id"] === "string" ? { transactionId: values["transaction-id"] } : {}),
        ...(typeof values["user-id"] === "string" ? { userId: values["user-id"] } : {}),
      };
      const url = requireString(values, "url");
      const token = requireString(values, "token");
      const retrySeconds = seconds(values, "retry-seconds", 0);
      const timeoutSeconds = seconds(values, "timeout-seconds", 10);

      let encoded: ReturnType<typeof encodeCallback>;
      let result: SendCallbackResult;
      try {
        encoded = encodeCallback(callback, token);
        result = await sendCallback({
          callbackUrl: url,
          token,
          callback,
          deadlineMs: retrySeconds * 1000,
          attemptTimeoutMs: Math.max(1, timeoutSeconds) * 1000,
          ...(io.fetch ? { fetch: io.fetch } : {}),
          onAttempt: (a) => {
            if (a.nextDelayMs === undefined) return;
            const what = a.status === undefined ? a.error : `HTTP ${a.status}`;
            io.err(`attempt ${a.attempt}: ${what}; retrying in ${a.nextDelayMs} ms`);
          },
        });
      } catch (error) {
        if (error instanceof SdkError) throw new UsageError(error.message);
        throw error;
      }
      io.out(line("POST", result.url));
      io.out(line("body", result.body));
      io.out(line("StringA", encoded.stringA));
      const attempts = result.attempts === 1 ? "" : ` (after ${result.attempts} attempts)`;
      switch (result.kind) {
        case "done":
          io.out(line("answer", `HTTP ${result.status}: accepted${attempts}`));
          return 0;
        case "done_conflicting":
          io.out(
            line(
              "answer",
              `HTTP ${result.status} ${result.type}: the order already reached another final status; ` +
                "the CRM keeps this callback for an admin to review",
            ),
          );
          return 1;
        case "rejected": {
          // The CRM's own reason when it gave one (psphub does), else what the type means.
          const meaning =
            result.detail !== undefined
              ? `: ${result.detail}`
              : result.type !== undefined && isCallbackErrorType(result.type)
                ? `: ${CALLBACK_ERROR_TYPES[result.type].meaning}`
                : "";
          io.out(line("answer", `HTTP ${result.status}${result.type ? ` ${result.type}` : ""}${meaning}`));
          if (result.response !== "") io.out(line("answer body", result.response));
          return 1;
        }
        case "gave_up":
          io.out(line("answer", `none: ${result.lastError}${attempts}`));
          return 1;
      }
    },
  };

  const statusCommand: Command = {
    name: "status",
    summary: "ask a backend where an order stands (API-3) and check the signed answer",
    usage: "status --order O --app-url U --merchant-id M --token T [--time MS] [--timeout-seconds N]",
    options: {
      order: str("order_no to ask about"),
      "app-url": str("the integration's APP_URL (/pay/status is appended)"),
      "merchant-id": str("merchant_id of the integration"),
      token: str("the integration's token (sent as crm-pay-token, signs; never printed)"),
      time: str("the query's time in Unix milliseconds (default: now)"),
      "timeout-seconds": str("time allowed for the answer (default 10)"),
    },
    async run(values) {
      const orderNo = requireString(values, "order");
      const url = statusQueryUrl(requireString(values, "app-url"));
      const merchantId = requireString(values, "merchant-id");
      const token = requireString(values, "token");
      const time = timeFlag(values);
      const timeoutSeconds = seconds(values, "timeout-seconds", 10);
      // Whatever the backend echoes, the token is never printed.
      const show = (text: string) => text.split(token).join("<token>");
      const verdict = (text: string, code: number) => {
        io.out(line("verdict", show(text)));
        return code;
      };

      const query = signStatusQuery({ merchantId, orderNo, time }, token);
      const body = JSON.stringify(query);
      const { sign: _sign, ...signed } = query;
      io.out(line("POST", url));
      io.out(line("body", body));
      io.out(line("StringA", stringA(signed)));
      io.out(line("StringB", `${stringA(signed)}<token>`));

      let status: number;
      let text: string;
      try {
        const response = await (io.fetch ?? globalThis.fetch)(url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", "crm-pay-token": token },
          body,
          redirect: "manual",
          signal: AbortSignal.timeout(Math.max(1, timeoutSeconds) * 1000),
        });
        status = response.status;
        // The timeout also bounds reading the body.
        text = await response.text();
      } catch (error) {
        const why =
          error instanceof Error && error.name === "TimeoutError"
            ? `no answer within ${timeoutSeconds} s`
            : `no answer: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`;
        io.out(line("answer", why));
        return verdict("invalid: the query failed (the CRM counts it as failed and changes nothing)", 1);
      }
      io.out(line("answer", `HTTP ${status}`));
      io.out(line("answer body", show(text.length > 2000 ? `${text.slice(0, 2000)}…` : text)));

      const answer = parseStatusAnswer(text);
      if (status < 200 || status > 299) {
        const detail = answer.kind === "invalid" ? ` (${answer.reason})` : "";
        return verdict(`invalid: HTTP ${status}${detail}; the CRM wants HTTP 200`, 1);
      }
      if (answer.kind === "not_found") {
        return verdict(`not found: the backend does not know order ${orderNo} (order_not_found)`, 1);
      }
      if (answer.kind === "invalid") return verdict(`invalid: ${answer.reason}`, 1);

      const checked = verifyDetailed(answer.dataText, token);
      io.out(line("data StringA", show(checked.stringA)));
      if (checked.stringAParsed !== undefined) {
        io.out(line("data StringA (parsed)", show(checked.stringAParsed)));
      }
      io.out(line("data sign", checked.valid ? "valid" : `invalid (${checked.reason ?? "mismatch"})`));
      let parsedData: ReturnType<typeof parseFlatJson>;
      try {
        parsedData = parseFlatJson(answer.dataText);
      } catch (error) {
        return verdict(`invalid: data is not a flat JSON object (${(error as Error).message})`, 1);
      }
      const callback = parseCallback(parsedData.params, parsedData.literals);
      if (!callback.ok) {
        return verdict(
          `invalid: data is not an API-2 body (${callback.error.path}: ${callback.error.message})`,
          1,
        );
      }
      if (!checked.valid) {
        return verdict(
          "invalid: the data's sign does not verify with this token (compare the data StringA)",
          1,
        );
      }
      const c = callback.callback;
      if (c.merchantId !== merchantId || c.orderNo !== orderNo) {
        return verdict(`invalid: data is about ${c.merchantId} / ${c.orderNo}, not this order`, 1);
      }
      if (!isCallbackStatus(c.status)) return verdict(`invalid: status ${c.status} is not 0, 1 or 2`, 1);
      const transaction = c.transactionId === undefined ? "" : `, transaction ${c.transactionId}`;
      return verdict(
        `found: status ${c.status} (${callbackStatusName(c.status).toLowerCase()}), ${c.amountText} ${c.currency}${transaction}`,
        0,
      );
    },
  };

  return { signCommand, verifyCommand, callbackCommand, statusCommand };
}

export const { signCommand, verifyCommand, callbackCommand, statusCommand } = createProtocolCommands();
