import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import {
  api1FastifyPlugin,
  type ExpressLikeRequest,
  toExpressHandler,
  toFetchHandler,
  toNodeHandler,
} from "./adapters.js";
import { type Api1Handler, createApi1Handler, type PaymentRequest } from "./api1-handler.js";
import { listen, readText, SAMPLE_ORDER, signedApi1Body, TOKEN } from "./test-support.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function makeHandler(maxBodyBytes = 4096): { handler: Api1Handler; seen: PaymentRequest[] } {
  const seen: PaymentRequest[] = [];
  const handler = createApi1Handler({
    token: TOKEN,
    maxBodyBytes,
    onPaymentRequest: (req) => {
      seen.push(req);
      return { url: `https://pay.example.com/p/${req.orderNo}` };
    },
  });
  return { handler, seen };
}

async function postTo(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "crm-pay-token": TOKEN, ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Sends `size` bytes chunked (no content-length), so only the running count can stop it. */
function postChunked(url: string, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: "POST",
      headers: { "crm-pay-token": TOKEN, "transfer-encoding": "chunked" },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    const chunk = "x".repeat(1024);
    for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
    req.end();
  });
}

const SUCCESS = { data: { url: "https://pay.example.com/p/ord-1" }, result: true, msg: "" };

describe("toNodeHandler on a real node:http server", () => {
  async function serve(maxBodyBytes?: number) {
    const { handler, seen } = makeHandler(maxBodyBytes);
    const node = toNodeHandler(handler);
    const server = await listen((req, res) => void node(req, res));
    cleanups.push(server.close);
    return { url: `${server.url}/pay/url`, seen };
  }

  it("answers a signed request with the payment URL", async () => {
    const { url, seen } = await serve();
    const res = await postTo(url, signedApi1Body(SAMPLE_ORDER));
    expect(res).toEqual({ status: 200, json: SUCCESS });
    expect(seen[0]!.amount).toBe("162.48");
  });

  it("refuses a wrong token with 401 and other methods with 405", async () => {
    const { url } = await serve();
    expect((await postTo(url, signedApi1Body(SAMPLE_ORDER), { "crm-pay-token": "nope" })).status).toBe(401);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("answers 413 when the declared or the streamed length passes the cap", async () => {
    const { url, seen } = await serve(2048);
    const declared = await postTo(url, `{"a":"${"x".repeat(4000)}"}`);
    expect(declared.status).toBe(413);
    expect(declared.json).toEqual({ data: null, result: false, msg: "request too large" });
    expect(await postChunked(url, 8 * 1024)).toBe(413);
    expect(seen).toHaveLength(0);
  });
});

/**
 * A minimal Express-style app on node:http: runs middlewares `(req, res, next)` in order and
 * answers errors passed to `next(err)` like Express's default handler (500 with the message).
 */
function expressLike(
  middlewares: Array<(req: ExpressLikeRequest, res: ServerResponse, next: (err?: unknown) => void) => void>,
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    let index = 0;
    const next = (err?: unknown): void => {
      if (err !== undefined) {
        res.statusCode = 500;
        res.end(`error: ${(err as Error).message}`);
        return;
      }
      const mw = middlewares[index++];
      if (mw) mw(req as ExpressLikeRequest, res, next);
      else res.writeHead(404).end();
    };
    next();
  };
}

/** Like express.text({ type: "*\/*" }): the body as a string in req.body. */
const textParser = (req: ExpressLikeRequest, _res: ServerResponse, next: () => void) => {
  readText(req as IncomingMessage).then((text) => {
    req.body = text;
    next();
  });
};

/** Like express.raw(): the body as a Buffer in req.body. */
const rawParser = (req: ExpressLikeRequest, _res: ServerResponse, next: () => void) => {
  readText(req as IncomingMessage).then((text) => {
    req.body = Buffer.from(text, "utf8");
    next();
  });
};

/** Like express.json(): parses matching bodies into an object, leaves `{}` on others (Express 4). */
const jsonParser = (req: ExpressLikeRequest, _res: ServerResponse, next: () => void) => {
  if (req.headers["content-type"] !== "application/json") {
    req.body = {};
    next();
    return;
  }
  readText(req as IncomingMessage).then((text) => {
    req.body = JSON.parse(text);
    next();
  });
};

describe("toExpressHandler behind an Express-style app on node:http", () => {
  async function serve(parsers: Array<typeof textParser>) {
    const { handler, seen } = makeHandler();
    const server = await listen(expressLike([...parsers, toExpressHandler(handler)]));
    cleanups.push(server.close);
    return { url: `${server.url}/pay/url`, seen };
  }

  it("reads the body itself without a body parser", async () => {
    const { url } = await serve([]);
    expect(await postTo(url, signedApi1Body(SAMPLE_ORDER))).toEqual({ status: 200, json: SUCCESS });
  });

  it("uses a string or Buffer body left by a text or raw parser", async () => {
    for (const parser of [textParser, rawParser]) {
      const { url, seen } = await serve([parser]);
      expect(await postTo(url, signedApi1Body(SAMPLE_ORDER))).toEqual({ status: 200, json: SUCCESS });
      expect(seen).toHaveLength(1);
    }
  });

  it("reads the stream when a JSON parser declined the content type and left {}", async () => {
    const { url } = await serve([jsonParser]);
    const res = await postTo(url, signedApi1Body(SAMPLE_ORDER), { "content-type": "text/plain" });
    expect(res).toEqual({ status: 200, json: SUCCESS });
  });

  it("explains through next(err) that the raw body is needed when a JSON parser consumed it", async () => {
    const { url, seen } = await serve([jsonParser]);
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "crm-pay-token": TOKEN },
      body: signedApi1Body(SAMPLE_ORDER),
    });
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/needs the raw request body.*express\.json\(\)/);
    expect(seen).toHaveLength(0);
  });
});

describe("api1FastifyPlugin on a real Fastify server", () => {
  async function serve(register: (app: ReturnType<typeof Fastify>, handler: Api1Handler) => Promise<void>) {
    const { handler, seen } = makeHandler(2048);
    const app = Fastify();
    app.post("/other", async (req) => ({ parsed: req.body }));
    await register(app, handler);
    await app.listen({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => app.close());
    const address = app.server.address() as { port: number };
    return { base: `http://127.0.0.1:${address.port}`, seen };
  }

  it("serves POST /pay/url over the raw body and leaves the app's JSON parser alone", async () => {
    const { base, seen } = await serve((app, handler) => app.register(api1FastifyPlugin(handler)));
    expect(await postTo(`${base}/pay/url`, signedApi1Body(SAMPLE_ORDER))).toEqual({
      status: 200,
      json: SUCCESS,
    });
    expect(seen[0]!.orderNo).toBe("ord-1");
    // Any content type reaches the handler as raw bytes.
    const plain = await postTo(`${base}/pay/url`, signedApi1Body(SAMPLE_ORDER), {
      "content-type": "text/plain",
    });
    expect(plain.status).toBe(200);
    const other = await postTo(`${base}/other`, '{"a":1}');
    expect(other).toEqual({ status: 200, json: { parsed: { a: 1 } } });
  });

  // The API-1 envelope: docs/psp-open-api.md#api-1-response.
  it("answers the spec's envelope for a bad token, an empty body and an oversized one", async () => {
    const { base } = await serve((app, handler) => app.register(api1FastifyPlugin(handler)));
    expect(
      (await postTo(`${base}/pay/url`, signedApi1Body(SAMPLE_ORDER), { "crm-pay-token": "x" })).status,
    ).toBe(401);
    const empty = await fetch(`${base}/pay/url`, { method: "POST", headers: { "crm-pay-token": TOKEN } });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ data: null, result: false });
    const big = await postTo(`${base}/pay/url`, `{"a":"${"x".repeat(4000)}"}`);
    expect(big).toEqual({ status: 413, json: { data: null, result: false, msg: "request too large" } });
  });

  it("honours a prefix and a custom path", async () => {
    const { base } = await serve((app, handler) =>
      app.register(api1FastifyPlugin(handler, { path: "/url" }), { prefix: "/psp/pay" }),
    );
    expect((await postTo(`${base}/psp/pay/url`, signedApi1Body(SAMPLE_ORDER))).status).toBe(200);
  });
});

describe("toFetchHandler", () => {
  const request = (body: string, init: RequestInit = {}) =>
    new Request("http://tenant.example/pay/url", {
      method: "POST",
      headers: { "crm-pay-token": TOKEN },
      body,
      ...init,
    });

  it("answers Request with Response", async () => {
    const { handler } = makeHandler();
    const res = await toFetchHandler(handler)(request(signedApi1Body(SAMPLE_ORDER)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(SUCCESS);
  });

  it("answers 405 for GET and 413 for a body over the cap", async () => {
    const { handler } = makeHandler(1024);
    const fetchHandler = toFetchHandler(handler);
    expect((await fetchHandler(new Request("http://tenant.example/pay/url"))).status).toBe(405);
    expect((await fetchHandler(request("x".repeat(5000)))).status).toBe(413);
  });
});
