import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A tenant backend for API-1 on loopback that answers at once (B3), or never (R4 with `hang`).
 * It reads the body and answers a fixed success with an https payment URL; it does not verify
 * the signature (the CRM's own tests do), so its cost is the floor of any API-1 call.
 * `GET /fx/rate` answers a fixed exchange rate timed now (B3's external rate source).
 *
 * Usage: api1-stub-server.ts [hang]   (prints "listening <url>")
 */
const hang = process.argv[2] === "hang";
const answer = JSON.stringify({ data: { url: "https://pay.example.com/p/bench" }, result: true, msg: "" });
let requests = 0;

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    requests++;
    if (req.method === "GET" && req.url?.startsWith("/fx/rate")) {
      const rate = JSON.stringify({ rate: "1.0781", time: Date.now() });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(rate) });
      res.end(rate);
      return;
    }
    if (hang) return; // never answers: the CRM's API-1 timeout must end the order
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 120_000;
server.requestTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => {
  console.log(`requests ${requests}`);
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
