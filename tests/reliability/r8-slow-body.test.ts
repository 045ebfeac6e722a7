import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import type { PsphubProcess } from "../support/processes.js";
import { type DbKind, insertOrders, orderCredits, seed, successBodies } from "../support/seed.js";
import { cleanUp, freshDatabase, orderNo, serve } from "./support/harness.js";

// R8: slow-drip clients against a real `psphub serve` process. With short limits set for the
// test, every connection that drips its headers or its signed, valid API-2 body a byte a second
// is answered 408 and closed before it has sent everything, and no dripped callback reaches the
// handler (its order stays pending, uncredited); the same body sent at once credits the order.
// A live status stream (SSE) of the portal outlives every limit: answers are not limited.

const LIMITS = { HEADERS_TIMEOUT_SECONDS: "2", BODY_TIMEOUT_SECONDS: "2", REQUEST_TIMEOUT_SECONDS: "3" };
const SLOW = 20;
/** Bytes a slow client drips (one a second) before giving up; far more than the limits allow. */
const DRIP_MAX = 12;

afterAll(cleanUp);

type Drip = { answer: string; closed: boolean; dripped: number };

/** Sends `head`, then `rest` one byte a second, until the server closes or DRIP_MAX bytes went. */
function drip(server: PsphubProcess, head: string, rest: string): Promise<Drip> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    let dripped = 0;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      socket.destroy();
      resolve({ answer, closed, dripped });
    };
    socket.on("data", (d) => {
      answer += d.toString("latin1");
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      closed = true;
      finish();
    });
    socket.on("connect", () => {
      socket.write(head);
      timer = setInterval(() => {
        if (closed) return;
        if (dripped >= Math.min(DRIP_MAX, rest.length)) return finish();
        socket.write(rest.charAt(dripped));
        dripped++;
      }, 1000);
    });
  });
}

/** Reads a live status stream for `events` status events, then cancels it. */
async function readStream(res: Response, events: number): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while ((text.match(/event: status/g) ?? []).length < events) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe.each(["sqlite", "postgres"] as DbKind[])("R8 slow clients on %s", (kind) => {
  it(`${SLOW} slow bodies and ${SLOW} slow headers are cut with 408 and never reach the handler; a live stream is not cut`, async () => {
    const db = await freshDatabase(kind, "r8");
    const s = await seed(db, { clients: 1 });
    const prefix = "r8s";
    await insertOrders(db, s, { prefix, count: SLOW + 2, kind: "pending" });
    const bodies = successBodies(s, prefix, SLOW + 1);
    const server = await serve(db, LIMITS);

    const callbackHead = (body: string) =>
      "POST /api/psp/pay/callback HTTP/1.1\r\nHost: psphub.test\r\nContent-Type: application/json\r\n" +
      `crm-pay-token: ${s.token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const [slowBodies, slowHeaders] = await Promise.all([
      Promise.all(bodies.slice(0, SLOW).map((body) => drip(server, callbackHead(body), body))),
      Promise.all(
        Array.from({ length: SLOW }, () =>
          drip(server, "GET /healthz HTTP/1.1\r\n", "Host: psphub.test\r\nX-Slow: 1\r\n\r\n"),
        ),
      ),
    ]);
    for (const r of [...slowBodies, ...slowHeaders]) {
      expect(r.closed, `still open after ${r.dripped} bytes: ${r.answer}`).toBe(true);
      expect(r.dripped).toBeLessThan(DRIP_MAX);
      expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
    }
    for (const r of slowBodies) expect(r.answer).toContain('"code":408');

    // None of the dripped callbacks was applied, though each was signed and valid.
    const credits = await orderCredits(db, prefix);
    for (let i = 0; i < SLOW; i++)
      expect(credits.get(orderNo(prefix, i))).toMatchObject({ status: "pending", credits: 0 });

    // The same kind of body sent at once is applied: the server is fine, only slowness is refused.
    const last = bodies[SLOW]!;
    const ok = await fetch(`${server.url}/api/psp/pay/callback`, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": s.token },
      body: last,
    });
    expect(ok.status).toBe(204);
    expect((await orderCredits(db, prefix)).get(orderNo(prefix, SLOW))).toMatchObject({
      status: "succeeded",
      credits: 1,
    });

    // A portal client's live status stream stays open longer than every limit (a status event
    // about every second) and has not ended when the client stops reading.
    const login = await fetch(`${server.url}/api/portal/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ tenant: s.slug, email: "client-0@bench.test", password: s.clientPassword }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const watched = orderNo(prefix, SLOW + 1);
    const stream = await fetch(`${server.url}/api/portal/deposits/${watched}/events`, {
      headers: { cookie },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const seen = await readStream(stream, 6);
    expect((seen.match(/event: status/g) ?? []).length).toBeGreaterThanOrEqual(6);
    expect(seen).not.toContain("event: end");
  });
});
