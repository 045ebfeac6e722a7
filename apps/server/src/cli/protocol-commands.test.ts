import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { callbackErrorBody, parseCallback, parseFlatJson, signStatusQuery, verify } from "@psphub/protocol";
import { createStatusQueryHandler, encodeCallback, type OrderStatus, toNodeHandler } from "@psphub/sdk";
import { afterEach, describe, expect, it } from "vitest";
import vectorsFile from "../../../../packages/protocol/test-fixtures/signature-vectors.json" with {
  type: "json",
};
import { type Command, parseCommandArgs, UsageError } from "./command.js";
import { type CliIo, createProtocolCommands } from "./protocol-commands.js";

interface Vector {
  name: string;
  token: string;
  body: string;
  string_a: string;
  sign: string;
  string_a_from_parsed_numbers?: string;
  sign_from_parsed_numbers?: string;
}
const vectors: Vector[] = vectorsFile.vectors;

/** Runs a command in-process like runCli does, capturing its output. */
async function run(
  pick: (c: ReturnType<typeof createProtocolCommands>) => Command,
  argv: string[],
  stdin = "",
) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: async () => stdin };
  const command = pick(createProtocolCommands(io));
  const { values, positionals } = parseCommandArgs(command, argv);
  const code = await command.run(values, positionals);
  return { code, out: out.join("\n"), err: err.join("\n"), lines: out };
}
const sign = (argv: string[], stdin?: string) => run((c) => c.signCommand, argv, stdin);
const verifyCmd = (argv: string[]) => run((c) => c.verifyCommand, argv);
const callback = (argv: string[]) => run((c) => c.callbackCommand, argv);
const status = (argv: string[]) => run((c) => c.statusCommand, argv);

const fieldOf = (lines: string[], label: string) => lines.find((l) => l.startsWith(`${label}:`))?.slice(26);

function flip(signature: string): string {
  return (signature[0] === "0" ? "1" : "0") + signature.slice(1);
}

describe("psphub sign agrees with every signature vector", () => {
  it.each(vectors.map((v) => [v.name, v] as const))("%s", async (_name, v) => {
    const r = await sign(["--token", v.token, "--body", v.body]);
    expect(r.code).toBe(0);
    expect(fieldOf(r.lines, "StringA")).toBe(v.string_a);
    expect(fieldOf(r.lines, "sign")).toBe(v.sign);
    if (v.sign_from_parsed_numbers) {
      expect(fieldOf(r.lines, "StringA (parsed numbers)")).toBe(v.string_a_from_parsed_numbers);
      expect(fieldOf(r.lines, "sign (parsed numbers)")).toBe(v.sign_from_parsed_numbers);
    } else {
      expect(r.out).not.toContain("parsed numbers");
    }
  });

  it("reads the body from standard input with --body - or without --body", async () => {
    const v = vectors[0]!;
    for (const argv of [
      ["--token", v.token, "--body", "-"],
      ["--token", v.token],
    ]) {
      const r = await sign(argv, `${v.body}\n`);
      expect(fieldOf(r.lines, "sign")).toBe(v.sign);
    }
  });

  it("explains a body that is not a flat JSON object", async () => {
    for (const body of ["{", "[1]", '{"a":{"b":1}}', '{"a":1,"a":2}']) {
      const r = await sign(["--token", "t", "--body", body]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /psphub sign: the body is not a flat JSON object \((invalid_json|not_object|nested_value|duplicate_key)\)/,
      );
    }
  });

  it("requires --token", async () => {
    await expect(sign(["--body", "{}"])).rejects.toThrow(UsageError);
  });
});

describe("psphub verify agrees with every signature vector", () => {
  it.each(vectors.map((v) => [v.name, v] as const))("%s", async (_name, v) => {
    const r = await verifyCmd(["--token", v.token, "--body", v.body, "--sign", v.sign]);
    expect(r.code).toBe(0);
    expect(r.lines[0]).toBe("valid (signed over the literal number text)");
    expect(fieldOf(r.lines, "StringA")).toBe(v.string_a);
    if (v.sign_from_parsed_numbers) {
      const parsed = await verifyCmd([
        "--token",
        v.token,
        "--body",
        v.body,
        "--sign",
        v.sign_from_parsed_numbers,
      ]);
      expect(parsed.code).toBe(0);
      expect(parsed.lines[0]).toBe("valid (signed over the parsed numbers)");
      expect(fieldOf(parsed.lines, "StringA (parsed numbers)")).toBe(v.string_a_from_parsed_numbers);
    }
    const forged = await verifyCmd(["--token", v.token, "--body", v.body, "--sign", flip(v.sign)]);
    expect(forged.code).toBe(1);
    expect(forged.lines[0]).toBe("invalid: the sign matches neither form of StringA with this token");
    expect(fieldOf(forged.lines, "StringA")).toBe(v.string_a);
    expect(fieldOf(forged.lines, "expected sign")).toBe(v.sign);
    const otherToken = await verifyCmd(["--token", `${v.token}x`, "--body", v.body, "--sign", v.sign]);
    expect(otherToken.code).toBe(1);
  });

  it("uses the body's own sign, and says when there is none or it is malformed", async () => {
    const v = vectors.find((x) => x.name === "integer-literal")!;
    const withSign = `${v.body.slice(0, -1)},"sign":"${v.sign.toLowerCase()}"}`;
    expect((await verifyCmd(["--token", v.token, "--body", withSign])).code).toBe(0);
    const none = await verifyCmd(["--token", v.token, "--body", v.body]);
    expect(none.code).toBe(1);
    expect(none.lines[0]).toContain("the body has no sign");
    const bad = await verifyCmd(["--token", v.token, "--body", v.body, "--sign", "xyz"]);
    expect(bad.lines[0]).toContain("not 40 hexadecimal characters");
  });

  it("requires --body (no silent stdin) and refuses unknown flags", async () => {
    await expect(verifyCmd(["--token", "t"])).rejects.toThrow(/--body is required/);
    await expect(verifyCmd(["--token", "t", "--bogus"])).rejects.toThrow(UsageError);
  });
});

describe("psphub callback", () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (servers.length) await servers.pop()!();
  });

  /** A fake CRM on loopback answering from a script, after checking the sign with the protocol. */
  async function crm(answers: Array<(res: import("node:http").ServerResponse) => void>) {
    const received: string[] = [];
    const server = createServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      received.push(body);
      if (req.headers["crm-pay-token"] !== "tk" || !verify(body, "tk")) {
        return void res.writeHead(400).end(JSON.stringify(callbackErrorBody("psp_token_invalid")));
      }
      (answers.shift() ?? ((r) => r.writeHead(204).end()))(res);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/psp`, received };
  }

  const base = (url: string) => [
    "--url",
    url,
    "--token",
    "tk",
    "--merchant",
    "m1",
    "--order",
    "o1",
    "--status",
    "1",
    "--amount",
    "100.10",
    "--currency",
    "USD",
    "--time",
    "1700000000000",
  ];

  it("sends a signed callback and prints the body, StringA and answer", async () => {
    const c = await crm([]);
    const r = await callback([...base(c.url), "--transaction-id", "tx-9"]);
    expect(r.code).toBe(0);
    expect(fieldOf(r.lines, "POST")).toBe(`${c.url}/pay/callback`);
    expect(fieldOf(r.lines, "body")).toBe(c.received[0]);
    expect(fieldOf(r.lines, "StringA")).toBe(
      "amount=100.10&currency=USD&merchant_id=m1&order_no=o1&status=1&time=1700000000000&transaction_id=tx-9",
    );
    expect(fieldOf(r.lines, "answer")).toBe("HTTP 204: accepted");
    const { params, literals } = parseFlatJson(c.received[0]!);
    expect(parseCallback(params, literals).ok).toBe(true);
  });

  it("prints the error type and its meaning, and exits 1", async () => {
    const c = await crm([
      (res) => res.writeHead(400).end(JSON.stringify(callbackErrorBody("payment_amount_not_allowed"))),
    ]);
    const r = await callback(base(c.url));
    expect(r.code).toBe(1);
    expect(fieldOf(r.lines, "answer")).toMatch(
      /^HTTP 400 payment_amount_not_allowed: `amount` is not a valid amount/,
    );
  });

  it("prints the CRM's own reason when the answer has a detail", async () => {
    const c = await crm([
      (res) =>
        res
          .writeHead(400)
          .end(
            JSON.stringify(
              callbackErrorBody(
                "payment_amount_not_allowed",
                "`amount` `99.5` differs from the order's 100.00",
              ),
            ),
          ),
    ]);
    const r = await callback(base(c.url));
    expect(r.code).toBe(1);
    expect(fieldOf(r.lines, "answer")).toBe(
      "HTTP 400 payment_amount_not_allowed: `amount` `99.5` differs from the order's 100.00",
    );
  });

  it("does not retry by default, and retries 5xx with --retry-seconds", async () => {
    const once503 = await crm([(res) => res.writeHead(503).end()]);
    const single = await callback(base(once503.url));
    expect(single.code).toBe(1);
    expect(fieldOf(single.lines, "answer")).toBe("none: HTTP 503");
    expect(once503.received).toHaveLength(1);

    const retried = await crm([(res) => res.writeHead(503).end()]);
    const r = await callback([...base(retried.url), "--retry-seconds", "5"]);
    expect(r.code).toBe(0);
    expect(fieldOf(r.lines, "answer")).toBe("HTTP 204: accepted (after 2 attempts)");
    expect(r.err).toMatch(/attempt 1: HTTP 503; retrying in \d+ ms/);
  });

  it("accepts status names and reports a conflict", async () => {
    const c = await crm([
      (res) => res.writeHead(400).end(JSON.stringify(callbackErrorBody("payment_status_not_pending"))),
    ]);
    const args = base(c.url);
    args[args.indexOf("--status") + 1] = "failed";
    const r = await callback(args);
    expect(r.code).toBe(1);
    expect(JSON.parse(c.received[0]!).status).toBe(0);
    expect(fieldOf(r.lines, "answer")).toContain(
      "payment_status_not_pending: the order already reached another final status",
    );
  });

  it("turns bad flag values into usage errors", async () => {
    const url = "http://127.0.0.1:9/api/psp";
    const withFlag = (flag: string, value: string) => {
      const args = base(url);
      const i = args.indexOf(flag);
      if (i >= 0) args[i + 1] = value;
      else args.push(flag, value);
      return args;
    };
    const cases: Array<[string[], RegExp]> = [
      [withFlag("--status", "3"), /--status must be/],
      [withFlag("--amount", "1,5"), /amount must be a non-negative decimal number/],
      [withFlag("--time", "yesterday"), /--time must be Unix milliseconds/],
      [withFlag("--url", "crm.example.com"), /not an absolute URL/],
      [withFlag("--retry-seconds", "1.5"), /--retry-seconds must be a whole number/],
      [base(url).slice(2), /--url is required/],
      [[...base(url).slice(0, 2), ...base(url).slice(4)], /--token is required/],
    ];
    for (const [argv, message] of cases) await expect(callback(argv)).rejects.toThrow(message);
  });
});

describe("psphub status", () => {
  const TOKEN = "status-token-0123456789abcdef";
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (servers.length) await servers.pop()!();
  });

  /** A tenant backend on loopback: the SDK's status query handler over `orders`, or a scripted answer. */
  async function backend(
    answer:
      | { orders: Record<string, OrderStatus>; token?: string }
      | ((res: import("node:http").ServerResponse) => void),
  ) {
    const paths: string[] = [];
    const node =
      typeof answer === "function"
        ? undefined
        : toNodeHandler(
            createStatusQueryHandler({
              token: answer.token ?? TOKEN,
              lookup: (o) => answer.orders[o] ?? null,
            }),
          );
    const server = createServer((req, res) => {
      paths.push(req.url ?? "");
      if (node) return void node(req, res);
      req.resume();
      (answer as (r: typeof res) => void)(res);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    servers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
  }

  const args = (appUrl: string, order = "o1", token = TOKEN) => [
    "--order",
    order,
    "--app-url",
    appUrl,
    "--merchant-id",
    "m1",
    "--token",
    token,
    "--time",
    "1700000000000",
  ];
  const PAID: OrderStatus = { status: 1, amount: "100.10", currency: "USD", transactionId: "tx-9", time: 1 };

  it("sends the signed query, shows both StringAs, verifies the data and exits 0 when found", async () => {
    const b = await backend({ orders: { o1: PAID } });
    const r = await status(args(`${b.url}/tenant/`));
    expect(b.paths).toEqual(["/tenant/pay/status"]);
    expect(fieldOf(r.lines, "POST")).toBe(`${b.url}/tenant/pay/status`);
    expect(fieldOf(r.lines, "body")).toBe(
      JSON.stringify(signStatusQuery({ merchantId: "m1", orderNo: "o1", time: 1700000000000 }, TOKEN)),
    );
    expect(fieldOf(r.lines, "StringA")).toBe("merchant_id=m1&order_no=o1&time=1700000000000");
    expect(fieldOf(r.lines, "StringB")).toBe("merchant_id=m1&order_no=o1&time=1700000000000<token>");
    expect(fieldOf(r.lines, "answer")).toBe("HTTP 200");
    expect(fieldOf(r.lines, "data StringA")).toBe(
      "amount=100.10&currency=USD&merchant_id=m1&order_no=o1&status=1&time=1&transaction_id=tx-9",
    );
    expect(fieldOf(r.lines, "data sign")).toBe("valid");
    expect(fieldOf(r.lines, "verdict")).toBe("found: status 1 (succeeded), 100.10 USD, transaction tx-9");
    expect(r.code).toBe(0);
    expect(r.out).not.toContain(TOKEN);
  });

  it("exits 1 for not found, a refused token, a wrong data sign, garbage and no answer", async () => {
    const notFound = await backend({ orders: {} });
    const refused = await backend({ orders: { o1: PAID }, token: "the-backend-has-another-token" });
    const { body: data } = encodeCallback(
      { merchantId: "m1", orderNo: "o1", amount: "1", currency: "USD", status: 1, time: 1 },
      "a-token-that-is-not-ours",
    );
    const badSign = await backend((res) =>
      res.writeHead(200).end(`{"result":true,"msg":"ok","data":${data}}`),
    );
    const otherOrder = await backend((res) => {
      const { body } = encodeCallback(
        { merchantId: "m1", orderNo: "o2", amount: "1", currency: "USD", status: 1, time: 1 },
        TOKEN,
      );
      res.writeHead(200).end(`{"result":true,"msg":"ok","data":${body}}`);
    });
    const garbage = await backend((res) => res.writeHead(200).end(`not json, and it echoes ${TOKEN}`));
    const gone = await backend((res) => res.end());
    await servers.pop()!();

    const cases: Array<[string, string]> = [
      [notFound.url, "not found: the backend does not know order o1 (order_not_found)"],
      [refused.url, "invalid: HTTP 401 (result is false: invalid crm-pay-token); the CRM wants HTTP 200"],
      [badSign.url, "invalid: the data's sign does not verify with this token (compare the data StringA)"],
      [otherOrder.url, "invalid: data is about m1 / o2, not this order"],
      [garbage.url, "invalid: the answer is not JSON"],
      [gone.url, "invalid: the query failed (the CRM counts it as failed and changes nothing)"],
    ];
    for (const [url, expected] of cases) {
      const r = await status(args(url));
      expect({ url, verdict: fieldOf(r.lines, "verdict") }).toEqual({ url, verdict: expected });
      expect(r.code).toBe(1);
      expect(r.out).not.toContain(TOKEN);
    }
    const echoed = await status(args(garbage.url));
    expect(fieldOf(echoed.lines, "answer body")).toBe("not json, and it echoes <token>");
    expect(fieldOf((await status(args(badSign.url))).lines, "data sign")).toBe("invalid (mismatch)");
  });

  it("turns bad flag values into usage errors", async () => {
    const url = "http://127.0.0.1:9";
    const cases: Array<[string[], RegExp]> = [
      [args(url).slice(2), /--order is required/],
      [args("crm.example.com"), /--app-url "crm.example.com" is not an absolute URL/],
      [args("ftp://x"), /--app-url must be http: or https:/],
      [args("http://x/?a=1"), /must not carry user info, a query or a fragment/],
      [[...args(url).slice(0, -1), "now"], /--time must be Unix milliseconds/],
      [[...args(url), "--timeout-seconds", "0.5"], /--timeout-seconds must be a whole number/],
      [args(url).filter((a, i, all) => a !== "--token" && all[i - 1] !== "--token"), /--token is required/],
    ];
    for (const [argv, message] of cases) await expect(status(argv)).rejects.toThrow(message);
  });
});

describe("the psphub binary", () => {
  const entry = fileURLToPath(new URL("../psphub.ts", import.meta.url));
  const psphub = (args: string[]) =>
    spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", entry, ...args], {
      encoding: "utf8",
      timeout: 60_000,
    });

  it("lists the protocol commands, verifies with exit code 1 for a forged sign, explains bad flags", () => {
    const v = vectors.find((x) => x.name === "api2-sample")!;
    const help = psphub(["--help"]);
    expect(help.stdout).toMatch(/\n {2}sign +print the StringA/);
    expect(help.stdout).toMatch(/\n {2}verify +check a body's sign/);
    expect(help.stdout).toMatch(/\n {2}callback +send a signed API-2 callback/);
    expect(help.stdout).toMatch(/\n {2}status +ask a backend where an order stands/);
    const verified = psphub(["verify", "--token", v.token, "--body", v.body, "--sign", flip(v.sign)]);
    expect(verified.status).toBe(1);
    expect(verified.stdout).toContain(`StringA:                  ${v.string_a}`);
    const bad = psphub(["callback", "--url"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/psphub callback: Option '--url <value>' argument missing/);
    expect(bad.stderr).toContain("usage: psphub callback");
  }, 90_000);
});
