import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (bound and released), for a listener a test must name in advance. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}
