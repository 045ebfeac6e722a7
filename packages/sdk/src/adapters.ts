import { SdkError } from "./errors.js";
import type { HandlerOutput, RequestHandler } from "./request-checks.js";

// Adapters of the framework-free handlers (API-1, the API-3 status query). They use structural types only, so the SDK
// imports no framework (and no `node:` module): a real `IncomingMessage`/`ServerResponse`,
// an Express `req`/`res` or a Fastify instance fits them.

/** What the adapters need from a Node request (an `http.IncomingMessage` fits). */
export interface NodeLikeRequest {
  readonly method?: string | undefined;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** True once the body stream was read to its end (for instance by a body parser). */
  readonly readableEnded?: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  resume(): unknown;
}

/** What the adapters need from a Node response (an `http.ServerResponse` fits). */
export interface NodeLikeResponse {
  statusCode: number;
  readonly headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

type BodyRead = { readonly ok: true; readonly body: Uint8Array } | { readonly ok: false };

const encoder = new TextEncoder();

function declaredLength(headers: NodeLikeRequest["headers"]): number | undefined {
  const value = headers["content-length"];
  if (typeof value !== "string" || !/^[0-9]{1,15}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Reads a request body, at most `maxBytes`. Answers `{ ok: false }` as soon as the declared or
 * received length passes the cap (and leaves the rest of the stream flowing into nothing).
 */
function readNodeBody(req: NodeLikeRequest, maxBytes: number): Promise<BodyRead> {
  const declared = declaredLength(req.headers);
  if (declared !== undefined && declared > maxBytes) {
    req.resume();
    return Promise.resolve({ ok: false });
  }
  if (req.readableEnded === true) return Promise.resolve({ ok: true, body: new Uint8Array(0) });
  return new Promise<BodyRead>((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.removeListener("data", onData);
      req.removeListener("end", onEnd);
      req.removeListener("error", onError);
    };
    const onData = (chunk: Uint8Array | string): void => {
      const bytes = typeof chunk === "string" ? encoder.encode(chunk) : chunk;
      total += bytes.byteLength;
      if (total > maxBytes) {
        cleanup();
        req.resume();
        resolve({ ok: false });
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      const body = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve({ ok: true, body });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** Writes an {@link HandlerOutput} to a Node response. `close` asks the client to drop the connection. */
function writeNodeOutput(res: NodeLikeResponse, output: HandlerOutput, close = false): void {
  if (res.headersSent === true) return;
  res.statusCode = output.status;
  for (const [name, value] of Object.entries(output.headers)) res.setHeader(name, value);
  if (close) res.setHeader("connection", "close");
  res.end(output.body);
}

function methodNotAllowed(handler: RequestHandler): HandlerOutput {
  const output = handler.failure(405, "method not allowed");
  return { ...output, headers: { ...output.headers, allow: "POST" } };
}

/**
 * A handler (API-1 or the status query) as a `node:http` listener: `(req, res) => Promise<void>`,
 * never rejecting. Mount it on `POST /pay/url` (`POST /pay/status`); other methods answer 405. Reads the body itself, capped at the
 * handler's `maxBodyBytes` (413, connection closed).
 *
 * ```ts
 * const payUrl = toNodeHandler(createApi1Handler({ token, onPaymentRequest }));
 * createServer((req, res) => (req.url === "/pay/url" ? payUrl(req, res) : notFound(res)));
 * ```
 */
export function toNodeHandler(
  handler: RequestHandler,
): (req: NodeLikeRequest, res: NodeLikeResponse) => Promise<void> {
  return async (req, res) => {
    try {
      if (req.method !== undefined && req.method.toUpperCase() !== "POST") {
        req.resume();
        writeNodeOutput(res, methodNotAllowed(handler));
        return;
      }
      const read = await readNodeBody(req, handler.maxBodyBytes);
      if (!read.ok) {
        writeNodeOutput(res, handler.tooLarge(), true);
        return;
      }
      writeNodeOutput(res, await handler.handle({ headers: req.headers, rawBody: read.body }));
    } catch {
      // The request stream failed (client gone): answer if anyone still listens.
      writeNodeOutput(res, handler.failure(400, "malformed request body"), true);
    }
  };
}

/** An Express-style request: a Node request that a body parser may have given a `body`. */
export interface ExpressLikeRequest extends NodeLikeRequest {
  body?: unknown;
}

const RAW_BODY_MESSAGE =
  "the handler needs the raw request body to verify `sign`, but a body parser already " +
  "parsed it into an object. Mount the handler before express.json() (it reads the body itself), " +
  "or give its route express.text({ type: '*/*' }) or express.raw({ type: '*/*' }).";

/**
 * A handler (API-1 or the status query) as an Express-style middleware `(req, res, next?)`. It works without any
 * body parser (it reads the stream), and behind `express.text()` or `express.raw()` (a string
 * or Buffer `req.body`). When a parser already turned the body into an object, the raw text is
 * gone and `sign` cannot be checked: it calls `next(SdkError "raw_body_required")` with an
 * explanation (or answers 500 without `next`). It never re-serialises a parsed body.
 */
export function toExpressHandler(
  handler: RequestHandler,
): (req: ExpressLikeRequest, res: NodeLikeResponse, next?: (error?: unknown) => void) => void {
  return (req, res, next) => {
    const run = async (): Promise<void> => {
      if (req.method !== undefined && req.method.toUpperCase() !== "POST") {
        writeNodeOutput(res, methodNotAllowed(handler));
        return;
      }
      const body = req.body;
      let raw: string | Uint8Array;
      if (typeof body === "string" || body instanceof Uint8Array) {
        raw = body;
      } else if (body !== undefined && body !== null && req.readableEnded === true) {
        const error = new SdkError("raw_body_required", RAW_BODY_MESSAGE);
        if (next) {
          next(error);
          return;
        }
        console.error("@psphub/sdk:", error.message);
        writeNodeOutput(res, handler.failure(500, "internal error"));
        return;
      } else {
        // No parser ran, or one declined this content type and left a placeholder: read it.
        const read = await readNodeBody(req, handler.maxBodyBytes);
        if (!read.ok) {
          writeNodeOutput(res, handler.tooLarge(), true);
          return;
        }
        raw = read.body;
      }
      writeNodeOutput(res, await handler.handle({ headers: req.headers, rawBody: raw }));
    };
    run().catch(() => writeNodeOutput(res, handler.failure(400, "malformed request body"), true));
  };
}

/** The few Fastify reply methods the plugin uses. */
interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload: string): unknown;
}

/** The few Fastify instance methods the plugin uses. */
interface FastifyLikeInstance {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    opts: { parseAs: "buffer"; bodyLimit: number },
    parser: (req: unknown, body: Uint8Array, done: (error: Error | null, body?: unknown) => void) => void,
  ): void;
  setErrorHandler(
    handler: (error: { statusCode?: number }, req: unknown, reply: FastifyLikeReply) => unknown,
  ): void;
  post(
    path: string,
    handler: (
      req: { headers: NodeLikeRequest["headers"]; body?: unknown },
      reply: FastifyLikeReply,
    ) => Promise<unknown>,
  ): void;
}

function sendFastify(reply: FastifyLikeReply, output: HandlerOutput): unknown {
  return reply
    .code(output.status)
    .headers({ ...output.headers })
    .send(output.body);
}

/**
 * A handler as a Fastify plugin: `app.register(api1FastifyPlugin(handler))` serves
 * `POST /pay/url` for the API-1 handler and `POST /pay/status` for the status query handler (or
 * `path`; `register`'s `prefix` applies). Inside its own encapsulated
 * context it replaces every content-type parser by one that keeps the raw bytes (capped at the
 * handler's `maxBodyBytes`: 413 in the handler's own envelope), so
 * the rest of the app keeps Fastify's JSON parser. Do not wrap it with `fastify-plugin`: that
 * would remove the app's parsers.
 */
export function api1FastifyPlugin(
  handler: RequestHandler,
  opts: { readonly path?: string } = {},
): (instance: unknown) => Promise<void> {
  const path = opts.path ?? handler.path ?? "/pay/url";
  return async (instance: unknown) => {
    const app = instance as FastifyLikeInstance;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      "*",
      { parseAs: "buffer", bodyLimit: handler.maxBodyBytes },
      (_req, body, done) => done(null, body),
    );
    app.setErrorHandler((error, _req, reply) => {
      const status = error.statusCode;
      if (status === 413) return sendFastify(reply, handler.tooLarge());
      if (status !== undefined && status >= 400 && status < 500) {
        return sendFastify(reply, handler.failure(400, "malformed request body"));
      }
      return sendFastify(reply, handler.failure(500, "internal error"));
    });
    app.post(path, async (req, reply) => {
      const body = req.body;
      const raw = typeof body === "string" || body instanceof Uint8Array ? body : undefined;
      return sendFastify(reply, await handler.handle({ headers: req.headers, rawBody: raw }));
    });
  };
}

/**
 * A handler (API-1 or the status query) for fetch-style runtimes and frameworks (`Request` → `Response`: Hono,
 * Next.js route handlers, Deno, Bun). Other methods answer 405; bodies over `maxBodyBytes` 413.
 */
export function toFetchHandler(handler: RequestHandler): (request: Request) => Promise<Response> {
  const respond = (output: HandlerOutput): Response =>
    new Response(output.body, { status: output.status, headers: output.headers });
  return async (request) => {
    if (request.method.toUpperCase() !== "POST") return respond(methodNotAllowed(handler));
    const declared = request.headers.get("content-length");
    if (declared !== null && /^[0-9]{1,15}$/.test(declared) && Number(declared) > handler.maxBodyBytes) {
      return respond(handler.tooLarge());
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (request.body !== null) {
      const reader = request.body.getReader();
      for (;;) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch {
          return respond(handler.failure(400, "malformed request body"));
        }
        if (step.done) break;
        total += step.value.byteLength;
        if (total > handler.maxBodyBytes) {
          await reader.cancel().catch(() => {});
          return respond(handler.tooLarge());
        }
        chunks.push(step.value);
      }
    }
    const body = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return respond(await handler.handle({ headers: request.headers, rawBody: body }));
  };
}
