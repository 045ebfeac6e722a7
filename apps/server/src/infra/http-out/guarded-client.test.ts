import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGuardedClient, type GuardedClient, type Resolver } from "./guarded-client.js";

type Hit = { method: string; url: string; host: string | undefined; body: string };

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ server: Server; port: number; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      hits.push({ method: req.method ?? "", url: req.url ?? "", host: req.headers.host, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];

describe("guarded outbound client", () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let other: Awaited<ReturnType<typeof startServer>>;
  const clients: GuardedClient[] = [];
  const client = (allowPrivate: boolean, lookup?: Resolver) => {
    const c = createGuardedClient({ allowPrivate, lookup });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    other = await startServer((_req, res) => res.end("redirect target reached"));
    srv = await startServer((req, res, body) => {
      const path = (req.url ?? "").split("?")[0];
      switch (path) {
        case "/echo":
          res.setHeader("content-type", "application/json");
          res.setHeader("x-multi", ["a", "b"]);
          res.end(JSON.stringify({ got: body, method: req.method }));
          return;
        case "/redirect":
          res.writeHead(302, { location: `http://127.0.0.1:${other.port}/` });
          res.end();
          return;
        case "/redirect-private":
          res.writeHead(302, { location: "http://10.0.0.1/" });
          res.end();
          return;
        case "/big-declared":
          res.setHeader("content-length", String(100 * 1024));
          res.end("x".repeat(100 * 1024));
          return;
        case "/big-chunked": {
          // No content-length: the cap must be enforced while streaming.
          let sent = 0;
          const push = () => {
            while (sent < 200 * 1024) {
              sent += 8 * 1024;
              if (!res.write("y".repeat(8 * 1024))) return res.once("drain", push);
            }
            res.end();
          };
          push();
          return;
        }
        case "/exactly-cap":
          res.end("z".repeat(1024));
          return;
        case "/hang":
          return; // never answers
        case "/stall-body":
          res.writeHead(200, { "content-type": "text/plain" });
          res.write("partial");
          return; // never ends
        case "/500":
          res.statusCode = 500;
          res.end("oops");
          return;
        default:
          res.end("ok");
      }
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await srv.close();
    await other.close();
  });

  it("posts a body and returns status, headers and body text", async () => {
    const r = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/echo`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":1}',
      timeoutMs: 2000,
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.headers["x-multi"]).toBe("a, b");
    expect(JSON.parse(r.bodyText)).toEqual({ got: '{"a":1}', method: "POST" });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("returns a non-2xx answer as an answer", async () => {
    const r = await client(true).request({ url: `http://127.0.0.1:${srv.port}/500`, timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, status: 500, bodyText: "oops" });
  });

  it("never follows a redirect: a 3xx is just the answer, the target is never contacted", async () => {
    const before = other.hits.length;
    const r = await client(true).request({ url: `http://127.0.0.1:${srv.port}/redirect`, timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: true, status: 302 });
    if (r.ok) expect(r.headers.location).toBe(`http://127.0.0.1:${other.port}/`);
    const r2 = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/redirect-private`,
      timeoutMs: 2000,
    });
    expect(r2).toMatchObject({ ok: true, status: 302 });
    expect(other.hits.length).toBe(before);
  });

  it("caps the response body by its declared length", async () => {
    const r = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/big-declared`,
      timeoutMs: 2000,
    });
    expect(r).toMatchObject({ ok: false, reason: "too_large" });
  });

  it("caps a streamed response body without a length, aborting while reading", async () => {
    const r = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/big-chunked`,
      timeoutMs: 5000,
    });
    expect(r).toMatchObject({ ok: false, reason: "too_large" });
    const small = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/big-chunked`,
      timeoutMs: 5000,
      maxBodyBytes: 16 * 1024,
    });
    expect(small).toMatchObject({ ok: false, reason: "too_large" });
  });

  it("accepts a body of exactly the cap", async () => {
    const r = await client(true).request({
      url: `http://127.0.0.1:${srv.port}/exactly-cap`,
      timeoutMs: 2000,
      maxBodyBytes: 1024,
    });
    expect(r).toMatchObject({ ok: true, status: 200 });
    if (r.ok) expect(r.bodyText.length).toBe(1024);
  });

  it("times out when the server never answers", async () => {
    const r = await client(true).request({ url: `http://127.0.0.1:${srv.port}/hang`, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, reason: "timeout" });
    if (!r.ok) expect(r.latencyMs).toBeLessThan(3000);
  });

  it("times out when the body stalls after the headers", async () => {
    const r = await client(true).request({ url: `http://127.0.0.1:${srv.port}/stall-body`, timeoutMs: 300 });
    expect(r).toMatchObject({ ok: false, reason: "timeout" });
  });

  it("reports a refused connection", async () => {
    const dead = await startServer(() => {});
    const port = dead.port;
    await dead.close();
    const r = await client(true).request({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, reason: "connection_refused" });
  });

  it.each([
    ["loopback literal", (p: number) => `http://127.0.0.1:${p}/`],
    ["decimal IPv4 literal", (p: number) => `http://2130706433:${p}/`],
    ["IPv6 loopback literal", (p: number) => `http://[::1]:${p}/`],
    ["IPv4-mapped IPv6 literal", (p: number) => `http://[::ffff:127.0.0.1]:${p}/`],
    ["private literal", () => "http://10.0.0.1/"],
    ["metadata literal", () => "http://169.254.169.254/latest/meta-data/"],
  ])("blocks a %s when private addresses are not allowed, before connecting", async (_name, url) => {
    const before = srv.hits.length;
    const r = await client(false).request({ url: url(srv.port), timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, reason: "blocked_address" });
    expect(srv.hits.length).toBe(before);
  });

  it("keeps refusing a literal on every call, and its verdict is the client's own (kept per host)", async () => {
    // The verdict on a literal host is kept after the first call: a second and a third call,
    // and the same host with another port or path, are refused the same way without a hit;
    // a client that allows private addresses reaches the same host.
    const strict = client(false);
    const open = client(true);
    const before = srv.hits.length;
    for (const url of [
      `http://127.0.0.1:${srv.port}/echo`,
      `http://127.0.0.1:${srv.port}/echo`,
      `http://127.0.0.1:${srv.port}/other`,
      `http://[::1]:${srv.port}/echo`,
      `http://[::1]:${srv.port}/echo`,
    ]) {
      expect(await strict.request({ url, method: "POST", body: "x", timeoutMs: 2000 })).toMatchObject({
        ok: false,
        reason: "blocked_address",
        detail: expect.stringMatching(/^(127\.0\.0\.1|::1) \(loopback\) is not allowed$/),
      });
    }
    expect(srv.hits.length).toBe(before);
    for (let i = 0; i < 2; i++) {
      const r = await open.request({
        url: `http://127.0.0.1:${srv.port}/echo`,
        method: "POST",
        body: "y",
        timeoutMs: 2000,
      });
      expect(r).toMatchObject({ ok: true, status: 200 });
    }
    expect(srv.hits.length).toBe(before + 2);
    // Metadata stays refused on the permissive client, call after call.
    for (let i = 0; i < 2; i++) {
      expect(await open.request({ url: "http://169.254.169.254/latest/", timeoutMs: 2000 })).toMatchObject({
        ok: false,
        reason: "blocked_address",
      });
    }
  });

  it("blocks a host name that resolves to loopback (checked at connect time)", async () => {
    const before = srv.hits.length;
    const seen: string[] = [];
    const r = await client(false, async (host) => {
      seen.push(host);
      return [{ address: "127.0.0.1", family: 4 }];
    }).request({ url: `http://tenant.example:${srv.port}/`, timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, reason: "blocked_address" });
    expect(seen).toEqual(["tenant.example"]);
    expect(srv.hits.length).toBe(before);
  });

  it("blocks a name when any of its addresses is refused", async () => {
    const r = await client(false, async () => [
      { address: "8.8.8.8", family: 4 },
      { address: "10.1.2.3", family: 4 },
    ]).request({ url: "http://mixed.example/", timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, reason: "blocked_address" });
  });

  it("multicast and unspecified addresses stay blocked even when private addresses are allowed", async () => {
    for (const address of ["224.0.0.1", "0.0.0.0"]) {
      const r = await client(true, async () => [{ address, family: 4 }]).request({
        url: "http://odd.example/",
        timeoutMs: 2000,
      });
      expect(r).toMatchObject({ ok: false, reason: "blocked_address" });
    }
  });

  it("defeats DNS rebinding: the name is resolved once per connection and the socket uses that checked answer", async () => {
    // A rebinding name answers a public address first and loopback on every later lookup. A
    // client that checked one lookup and connected with another would reach the loopback server.
    let lookups = 0;
    const rebinding: Resolver = async () =>
      lookups++ === 0 ? [{ address: "1.1.1.1", family: 4 }] : [{ address: "127.0.0.1", family: 4 }];
    const before = srv.hits.length;
    const r = await client(false, rebinding).request({
      url: `http://rebind.example:${srv.port}/echo`,
      timeoutMs: 500,
    });
    // 1.1.1.1 gives no HTTP answer on this port: refused or timed out, but never blocked (it was
    // checked and allowed) and never the loopback server.
    expect(r).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^(connection_refused|timeout|network_error)$/),
    });
    expect(lookups).toBe(1);
    expect(srv.hits.length).toBe(before);
    // The second connection's lookup gets loopback, and the check refuses it.
    const again = await client(false, rebinding).request({
      url: `http://rebind.example:${srv.port}/echo`,
      timeoutMs: 500,
    });
    expect(again).toMatchObject({ ok: false, reason: "blocked_address" });
    expect(srv.hits.length).toBe(before);
  });

  it("refuses cloud metadata addresses even where private addresses are allowed", async () => {
    const r = await client(true).request({ url: "http://169.254.169.254/latest/meta-data/", timeoutMs: 500 });
    expect(r).toMatchObject({ ok: false, reason: "blocked_address" });
    const named = await client(true, async () => [{ address: "169.254.169.254", family: 4 }]).request({
      url: "http://metadata.example/",
      timeoutMs: 500,
    });
    expect(named).toMatchObject({ ok: false, reason: "blocked_address" });
  });

  it("connects to the checked address of a host name when allowed, keeping the Host header", async () => {
    const r = await client(true, toLoopback).request({
      url: `http://tenant.example:${srv.port}/echo`,
      method: "POST",
      body: "x",
      timeoutMs: 2000,
    });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(srv.hits.at(-1)?.host).toBe(`tenant.example:${srv.port}`);
  });

  it("reports a name that does not resolve as a DNS failure", async () => {
    const r = await client(false, async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    }).request({ url: "https://nowhere.invalid/", timeoutMs: 2000 });
    expect(r).toMatchObject({ ok: false, reason: "dns_failure" });
    const empty = await client(false, async () => []).request({
      url: "https://empty.invalid/",
      timeoutMs: 2000,
    });
    expect(empty).toMatchObject({ ok: false, reason: "dns_failure" });
  });

  it("refuses other schemes and relative URLs without any I/O", async () => {
    const c = client(true);
    expect(await c.request({ url: "file:///etc/passwd", timeoutMs: 1000 })).toMatchObject({
      ok: false,
      reason: "network_error",
    });
    expect(await c.request({ url: "/relative", timeoutMs: 1000 })).toMatchObject({
      ok: false,
      reason: "network_error",
    });
  });
});
