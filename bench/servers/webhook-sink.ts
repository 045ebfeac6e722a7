import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * B6's webhook receiver, in a process of its own so that it shares no event loop with the load
 * generator: answers every POST 204 at once and keeps, per `webhook-id`, how many times it came
 * and the lag from the event's `timestamp` (when the change committed, to the millisecond) to
 * its arrival. Paths `/a` and `/b` are two endpoints. `GET /stats?since=<ms>` answers the counts
 * and the lags of the events of that time or later; `DELETE /stats` forgets everything.
 *
 * Usage: webhook-sink.ts   (prints "listening <url>")
 */
type Seen = { at: number; lagMs: number; times: number };
const seen = new Map<string, Seen>();

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url?.startsWith("/stats")) {
    const since = Number(new URL(req.url, "http://x").searchParams.get("since") ?? 0);
    const lags: number[] = [];
    let deliveries = 0;
    let duplicates = 0;
    for (const s of seen.values()) {
      if (s.at - s.lagMs < since) continue;
      lags.push(s.lagMs);
      deliveries += s.times;
      duplicates += s.times - 1;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ events: lags.length, deliveries, duplicates, lags }));
    return;
  }
  if (req.method === "DELETE") {
    seen.clear();
    res.writeHead(204).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const at = Date.now();
    const key = `${req.url}|${String(req.headers["webhook-id"])}`;
    const prior = seen.get(key);
    if (prior) prior.times++;
    else {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { timestamp: string };
      seen.set(key, { at, lagMs: at - Date.parse(body.timestamp), times: 1 });
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
