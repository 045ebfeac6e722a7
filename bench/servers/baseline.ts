import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "@psphub/protocol";

/**
 * B1's baseline: the least an API-2 endpoint can do on this machine. A bare node:http server
 * that reads the body, parses the JSON, verifies `sign` with @psphub/protocol and answers 204,
 * with no framework and no database. Its figures, measured in the same run, are the yardstick
 * every psphub figure is divided by.
 *
 * Usage: baseline.ts <token>   (prints "listening <url>")
 */
const token = process.argv[2] ?? process.env.BASELINE_TOKEN ?? "";
if (!token) throw new Error("usage: baseline.ts <token>");

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks).toString("utf8");
    let ok = false;
    try {
      const body = JSON.parse(raw) as { sign?: unknown };
      ok = typeof body.sign === "string" && verify(raw, token);
    } catch {
      ok = false;
    }
    if (ok) {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(400, { "content-type": "application/json" });
      res.end('{"error":true,"code":400,"type":"psp_token_invalid"}');
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
