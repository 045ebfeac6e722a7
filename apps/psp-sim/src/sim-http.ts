import type { IncomingMessage, ServerResponse } from "node:http";

// The simulator's HTTP plumbing: forms, and answers with the headers its pages need.

export const FORM_LIMIT = 8 * 1024;

/**
 * A url-encoded form body of at most `limit` bytes; undefined as soon as the declared or received
 * length passes it (the rest of the body then flows into nothing, so the 413 can still be sent).
 */
export function readForm(req: IncomingMessage, limit: number): Promise<URLSearchParams | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > limit) {
        req.off("data", onData).off("end", onEnd);
        req.resume();
        resolve(undefined);
      } else chunks.push(chunk);
    };
    const onEnd = (): void => resolve(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    req.on("data", onData).on("end", onEnd).once("error", reject);
  });
}

const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Answers `body` as `type`, never cached, never sniffed. */
export function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, {
    "content-type": type,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...extra,
  });
  res.end(body);
}

/** An HTML page under the pages' strict CSP, never framed, with no referrer. */
export function html(res: ServerResponse, status: number, body: string): void {
  send(res, status, "text/html; charset=utf-8", body, {
    "content-security-policy": PAGE_CSP,
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  });
}

/** A JSON answer. */
export function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
}
