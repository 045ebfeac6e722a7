import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import {
  parseCallback,
  parseFlatJson,
  parsePayoutCallback,
  parsePayoutRequestAnswer,
  parsePayoutStatusAnswer,
  parseStatusAnswer,
  signPayoutRequest,
  signPayoutStatusQuery,
  signStatusQuery,
  verify,
} from "@psphub/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, listen, readText, SAMPLE_ORDER, signedApi1Body, TOKEN } from "./test-support.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const examplePath = fileURLToPath(new URL("../examples/tenant-backend.ts", import.meta.url));
const readmePath = fileURLToPath(new URL("../README.md", import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx");

let child: ChildProcess | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  child?.kill();
  for (const c of cleanups) await c();
});

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe("the README's tenant backend example", () => {
  it("is printed in the README exactly as the file that runs", () => {
    const readme = readFileSync(readmePath, "utf8");
    const block = /<!-- example:start -->\n```ts\n([\s\S]*?)```\n<!-- example:end -->/.exec(readme);
    expect(block?.[1]).toBe(readFileSync(examplePath, "utf8"));
  });

  it("runs: answers API-1, shows the page, calls back a CRM that verifies the sign, answers status queries, and pays out once", async () => {
    const callbacks: string[] = [];
    const payoutCallbacks: string[] = [];
    const crm = await listen(async (req, res) => {
      const body = await readText(req);
      (req.url === "/api/psp/payout/callback" ? payoutCallbacks : callbacks).push(body);
      const ok =
        (req.url === "/api/psp/pay/callback" || req.url === "/api/psp/payout/callback") &&
        req.headers["crm-pay-token"] === TOKEN &&
        verify(body, TOKEN);
      res.writeHead(ok ? 204 : 400).end();
    });
    cleanups.push(crm.close);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ["--conditions=source", "--import", tsx, examplePath], {
      cwd: root,
      env: {
        ...process.env,
        PSP_TOKEN: TOKEN,
        CRM_CALLBACK_URL: `${crm.url}/api/psp`,
        PUBLIC_URL: base,
        PORT: String(port),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    await waitFor(base, 15_000);

    const api1 = await fetch(`${base}/pay/url`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
      body: signedApi1Body(SAMPLE_ORDER),
    });
    expect(api1.status).toBe(200);
    const { data } = (await api1.json()) as { data: { url: string } };
    expect(data.url).toBe(`${base}/checkout?order=ord-1`);

    const forged = await fetch(`${base}/pay/url`, {
      method: "POST",
      headers: { "crm-pay-token": TOKEN },
      body: signedApi1Body(SAMPLE_ORDER).replace("162.48", "1.00"),
    });
    expect(forged.status).toBe(401);

    /** The CRM's status query (API-3): the answer's kind, and the status of its verified data. */
    const statusOf = async (orderNo: string) => {
      const res = await fetch(`${base}/pay/status`, {
        method: "POST",
        headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
        body: JSON.stringify(
          signStatusQuery(
            { merchantId: SAMPLE_ORDER.named.merchant_id as string, orderNo, time: Date.now() },
            TOKEN,
          ),
        ),
      });
      const answer = parseStatusAnswer(await res.text());
      if (answer.kind !== "found") return answer.kind;
      expect(verify(answer.dataText, TOKEN)).toBe(true);
      return JSON.parse(answer.dataText).status as number;
    };
    expect(await statusOf("ord-1")).toBe(2);
    expect(await statusOf("ord-unknown")).toBe("not_found");

    const page = await fetch(data.url);
    expect(await page.text()).toContain("Pay 162.48 USD");

    const paid = await fetch(data.url, { method: "POST" });
    expect(await paid.text()).toBe("Paid: you can close this tab.");
    expect(callbacks).toHaveLength(1);
    expect(await statusOf("ord-1")).toBe(1);
    const { params, literals } = parseFlatJson(callbacks[0]!);
    const parsed = parseCallback(params, literals);
    expect(parsed.ok && parsed.callback).toMatchObject({
      merchantId: SAMPLE_ORDER.named.merchant_id,
      orderNo: "ord-1",
      amountText: "162.48",
      currency: "USD",
      status: 1,
      userId: "u1",
    });

    // Payouts: API-4 (twice: one payout), its API-5, and the payout status query.
    const merchantId = SAMPLE_ORDER.named.merchant_id as string;
    const payout = (time: number) =>
      fetch(`${base}/payout/request`, {
        method: "POST",
        headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
        body: JSON.stringify(
          signPayoutRequest(
            {
              merchantId,
              payoutNo: "p0bhyp3lqm1x",
              amountMinor: 9550n,
              decimals: 2,
              currency: "USD",
              userId: "u1",
              fields: { iban: "DE89370400440532013000" },
              time,
            },
            TOKEN,
          ),
        ),
      });
    const first = parsePayoutRequestAnswer(await (await payout(Date.now())).json());
    const again = parsePayoutRequestAnswer(await (await payout(Date.now() + 1)).json());
    expect(first).toEqual({ kind: "accepted", transactionId: "po-p0bhyp3lqm1x", msg: "ok" });
    expect(again).toEqual(first);
    const payoutStatusOf = async (payoutNo: string) => {
      const res = await fetch(`${base}/payout/status`, {
        method: "POST",
        headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
        body: JSON.stringify(signPayoutStatusQuery({ merchantId, payoutNo, time: Date.now() }, TOKEN)),
      });
      const answer = parsePayoutStatusAnswer(await res.text());
      if (answer.kind !== "found") return answer.kind;
      expect(verify(answer.dataText, TOKEN)).toBe(true);
      return JSON.parse(answer.dataText).status as number;
    };
    for (let i = 0; i < 100 && payoutCallbacks.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    expect(payoutCallbacks).toHaveLength(1);
    const sent = parseFlatJson(payoutCallbacks[0]!);
    expect(parsePayoutCallback(sent.params, sent.literals)).toMatchObject({
      ok: true,
      callback: {
        orderNo: "p0bhyp3lqm1x",
        amountText: "95.5",
        currency: "USD",
        status: 1,
        transactionId: "po-p0bhyp3lqm1x",
      },
    });
    expect(await payoutStatusOf("p0bhyp3lqm1x")).toBe(1);
    expect(await payoutStatusOf("p-unknown")).toBe("not_found");
  }, 30_000);
});
