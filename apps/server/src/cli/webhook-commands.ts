import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookReceiver } from "@psphub/psp-sim";
import { type VerifiedWebhook, verifyWebhook, WebhookVerificationError } from "@psphub/sdk";
import { type Command, UsageError } from "./command.js";
import { type CliIo, processIo } from "./protocol-commands.js";

// `psphub webhook listen`: a local receiver of the CRM's outbound webhooks for a tenant developer
// (like `stripe listen`). It verifies each POST with the SDK, as the tenant's own receiver would.

const DEFAULT_PORT = 4200;

/** Options of {@link startWebhookListener}. */
export interface WebhookListenerOptions {
  readonly port: number;
  readonly host: string;
  readonly secrets: readonly string[];
  readonly toleranceSeconds: number;
  readonly io: Pick<CliIo, "out" | "err">;
  /** The clock, Unix milliseconds (tests). */
  readonly now?: () => number;
}

/** A running listener: its URL and how to stop it. */
export interface WebhookListener {
  readonly url: string;
  close(): Promise<void>;
}

/** How a verified webhook is shown: type, id and timestamps on one line, then the data. */
export function formatWebhook(webhook: VerifiedWebhook): string {
  const signedAt = new Date(webhook.timestamp * 1000).toISOString();
  const data = JSON.stringify(webhook.data, null, 2).replace(/\n/g, "\n  ");
  return `${webhook.type}  ${webhook.id}  event ${webhook.eventTimestamp}, signed ${signedAt}\n  ${data}`;
}

/**
 * Starts the receiver: 204 for a webhook that verifies (printed), 400 `{error, message}` naming the
 * reason for one that does not, 405 for anything but POST, 413 over 1 MiB. Throws
 * {@link WebhookVerificationError} `bad_secret` before listening when a secret is malformed.
 */
export async function startWebhookListener(options: WebhookListenerOptions): Promise<WebhookListener> {
  // A malformed secret is refused now, not at the first request.
  await verifyWebhook({}, "", options.secrets);
  const { io } = options;
  // The simulator's receiver, on every path: verified webhooks printed in full, refusals to stderr.
  const receiver = createWebhookReceiver({
    secrets: options.secrets,
    toleranceSeconds: options.toleranceSeconds,
    ...(options.now ? { now: options.now } : {}),
    log: io.err,
    onVerified: (webhook) => io.out(formatWebhook(webhook)),
  });
  const server = createServer((req, res) => {
    receiver.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end();
      io.err(`psphub webhook listen: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const str = (description: string) => ({ type: "string" as const, description });

function wholeNumber(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^[0-9]{1,9}$/.test(value) || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from 0 to ${max}`);
  }
  return Number(value);
}

/** Builds `psphub webhook listen` around `io`; `untilStopped` resolves when it should stop. */
export function createWebhookListenCommand(
  io: CliIo = processIo,
  untilStopped: () => Promise<unknown> = waitForSignal,
): Command {
  return {
    name: "webhook listen",
    summary: "receive webhooks locally: verify each one with its secret(s) and print it",
    usage:
      "webhook listen --secret whsec_… [--secret whsec_…] [--port 4200] [--host 127.0.0.1] [--tolerance 300]",
    options: {
      secret: { ...str("the endpoint's secret, whsec_…; twice while a secret rotates"), multiple: true },
      port: str(`the port to listen on (default ${DEFAULT_PORT}; 0 takes a free one)`),
      host: str("the address to listen on (default 127.0.0.1)"),
      tolerance: str("seconds webhook-timestamp may be from now (default 300)"),
    },
    async run(values) {
      const secrets = (values.secret as unknown as string[] | undefined) ?? [];
      if (secrets.length === 0) throw new UsageError("--secret is required (whsec_…)");
      const host = typeof values.host === "string" && values.host !== "" ? values.host : "127.0.0.1";
      let listener: WebhookListener;
      try {
        listener = await startWebhookListener({
          port: wholeNumber(values.port, "port", DEFAULT_PORT, 65535),
          host,
          secrets,
          toleranceSeconds: wholeNumber(values.tolerance, "tolerance", 300, 10 ** 9),
          io,
        });
      } catch (error) {
        if (error instanceof WebhookVerificationError) throw new UsageError(`--secret: ${error.message}`);
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
          io.err(
            `psphub webhook listen: port ${String(values.port ?? DEFAULT_PORT)} is in use: pass --port <another port>`,
          );
          return 1;
        }
        throw error;
      }
      io.out(
        `psphub webhook listen: receiving on ${listener.url}/ (any path), ${secrets.length} secret(s). Ctrl-C stops.`,
      );
      await untilStopped();
      await listener.close();
      io.out("psphub webhook listen: stopped.");
      return 0;
    },
  };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      done(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

export const webhookListenCommand = createWebhookListenCommand();
