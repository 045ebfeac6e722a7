import { connect, type Socket } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/config.js";
import { createTestApp, type TestApp } from "../test/test-app.js";

// A client that sends its headers or its body a byte at a time must not hold a
// connection (and a request) open. The real app on a real socket, with short timeouts set by the
// test: the slow request is answered 408 or its connection closed, and never reaches a handler.

let t: TestApp;
let port: number;
/** Requests that reached a handler of the test routes, by path. */
const reached: string[] = [];

beforeAll(async () => {
  t = await createTestApp({
    env: { HEADERS_TIMEOUT_SECONDS: "1", BODY_TIMEOUT_SECONDS: "1", REQUEST_TIMEOUT_SECONDS: "2" },
    extraRoutes: (app) => {
      app.post("/test/echo", { config: { access: "public" } }, async (req) => {
        reached.push(req.url);
        return { got: req.body };
      });
      // A response that lasts longer than every timeout, like a live status stream (SSE).
      app.get("/test/long-response", { config: { access: "public" } }, async (req, reply) => {
        reached.push(req.url);
        reply.hijack();
        reply.raw.writeHead(200, { "content-type": "text/event-stream" });
        for (let i = 0; i < 6; i++) {
          reply.raw.write(`data: ${i}\n\n`);
          await new Promise((r) => setTimeout(r, 500));
        }
        reply.raw.end("data: end\n\n");
      });
    },
  });
  await t.app.listen({ host: "127.0.0.1", port: 0 });
  const address = t.app.server.address();
  port = typeof address === "object" && address ? address.port : 0;
});
afterAll(async () => {
  await t?.close();
});

type Exchange = { answer: string; closed: boolean; sentAll: boolean };

/**
 * Sends `head` at once, then `drip` one byte per second, until the server closes the connection
 * or everything was sent; then waits a little for an answer. Never more than `drip.length` seconds.
 */
function drip(head: string, dripText: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let answer = "";
    let closed = false;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearInterval(timer);
      socket.destroy();
      resolve({ answer, closed, sentAll: sent === dripText.length });
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
        if (closed || socket.destroyed) return;
        if (sent === dripText.length) {
          // Everything sent and the connection still open: give the server a moment to answer.
          clearInterval(timer);
          setTimeout(finish, 1000);
          return;
        }
        socket.write(dripText[sent] ?? "");
        sent++;
      }, 1000);
    });
  });
}

describe("slow clients are cut off", () => {
  it("a body dripped one byte a second is answered 408 and its connection closed, never reaching the handler", async () => {
    const body = '{"a":"12345678"}';
    const r = await drip(
      `POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    expect(r.sentAll, r.answer).toBe(false);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(reached).not.toContain("/test/echo");
  });

  it("a chunked body dripped one byte a second is cut the same way", async () => {
    const body = "10\r\n" + '{"a":"12345678"}' + "\r\n0\r\n\r\n";
    const r = await drip(
      "POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      body,
    );
    expect(r.sentAll, r.answer).toBe(false);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(reached).not.toContain("/test/echo");
  });

  it("headers dripped one byte a second are answered 408 and the connection closed", async () => {
    const r = await drip("POST /test/echo HTTP/1.1\r\nHost: x\r\n", "X-Slow: abcdef\r\n\r\n");
    expect(r.sentAll, r.answer).toBe(false);
    expect(r.closed).toBe(true);
    expect(r.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(reached).not.toContain("/test/echo");
  });

  // The API-2 envelope: docs/psp-open-api.md#api-2-answers.
  it("a slow body on the API-2 callback route is answered 408 in the spec's envelope, never 500", async () => {
    let n = 0;
    const payload = new Readable({
      read() {
        // One byte now, then nothing more: the body never ends.
        if (n++ === 0) this.push("{");
      },
    });
    const res = await t.app.inject({
      method: "POST",
      url: "/api/psp/pay/callback",
      headers: { "content-type": "application/json", "content-length": "40" },
      payload,
    });
    expect(res.statusCode).toBe(408);
    expect(res.json()).toEqual({
      error: true,
      code: 408,
      type: "request_malformed",
      detail: "the body did not arrive in time",
    });
    expect(res.headers.connection).toBe("close");
    payload.destroy();
  });

  it("a slow body on a back-office route is answered 408 in the app's envelope", async () => {
    let n = 0;
    const payload = new Readable({
      read() {
        if (n++ === 0) this.push("{");
      },
    });
    const res = await t.app.inject({
      method: "POST",
      url: "/test/echo",
      headers: { "content-type": "application/json", "content-length": "40" },
      payload,
    });
    expect(res.statusCode).toBe(408);
    expect(res.json()).toEqual({ error: { code: "request_timeout", message: expect.any(String) } });
    expect(reached).not.toContain("/test/echo");
    payload.destroy();
  });
});

describe("what the timeouts leave alone", () => {
  it("a request sent at once is answered as usual, on a connection kept alive", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/test/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: { a: 1 } });
    expect(res.headers.get("connection")).not.toBe("close");
  });

  it("a response that streams for longer than every timeout (a live status stream) is not cut", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/test/long-response`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("data: 5\n\n");
    expect(text.endsWith("data: end\n\n")).toBe(true);
  });
});

describe("configuration", () => {
  it("has defaults, and refuses timeouts that contradict each other", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ headersTimeoutMs: 10_000, bodyTimeoutMs: 15_000, requestTimeoutMs: 30_000 });
    expect(() => loadConfig({ HEADERS_TIMEOUT_SECONDS: "40" })).toThrow(/HEADERS_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ BODY_TIMEOUT_SECONDS: "31" })).toThrow(/BODY_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: "0" })).toThrow(/REQUEST_TIMEOUT_SECONDS/);
  });
});
