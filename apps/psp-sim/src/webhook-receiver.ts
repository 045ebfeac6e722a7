import type { IncomingMessage, ServerResponse } from "node:http";
import { type VerifiedWebhook, verifyWebhook } from "@psphub/sdk";

// The simulator as a receiver of the CRM's outbound webhooks (`POST /webhooks`, docs/webhooks.md):
// what a tenant's own system does with them, verified with the SDK and printed.

const BODY_LIMIT = 1024 * 1024;
const KEPT = 100;

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** `whsec_…` secrets (two while one rotates); none turns the route off (404). */
  readonly secrets?: readonly string[];
  readonly toleranceSeconds?: number;
  readonly log: (line: string) => void;
  /** Shows a webhook that verified; default: one `log` line with its type, id and data. */
  readonly onVerified?: (webhook: VerifiedWebhook) => void;
  /** The clock, Unix milliseconds (tests). */
  readonly now?: () => number;
}

/** `POST /webhooks` and the webhooks it accepted, the newest last. */
export interface WebhookReceiver {
  readonly enabled: boolean;
  /** The last 100 webhooks that verified. */
  readonly received: readonly VerifiedWebhook[];
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function reply(res: ServerResponse, status: number, body?: object): void {
  if (body === undefined) res.writeHead(status, { "cache-control": "no-store" }).end();
  else {
    res
      .writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" })
      .end(JSON.stringify(body));
  }
}

async function readBytes(req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The receiver: 204 for a webhook that verifies (logged with its type, id and data), 400
 * `{error, message}` with the SDK's reason otherwise, 405 for anything but POST, 413 over 1 MiB.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const secrets = options.secrets ?? [];
  const received: VerifiedWebhook[] = [];
  return {
    enabled: secrets.length > 0,
    received,
    async handle(req, res) {
      if (secrets.length === 0) {
        req.resume();
        return reply(res, 404, {
          error: "webhooks_off",
          message: "start the simulator with --webhook-secret",
        });
      }
      if (req.method !== "POST") {
        req.resume();
        return reply(res, 405, { error: "method_not_allowed", message: "webhooks are POSTed" });
      }
      const body = await readBytes(req);
      if (body === undefined) {
        options.log("webhook refused: the body is larger than 1 MiB");
        return reply(res, 413, { error: "too_large", message: "larger than 1 MiB" });
      }
      const result = await verifyWebhook(req.headers, body, secrets, {
        ...(options.toleranceSeconds === undefined ? {} : { toleranceSeconds: options.toleranceSeconds }),
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      if (!result.ok) {
        options.log(`webhook refused (${result.error.code}): ${result.error.message}`);
        return reply(res, 400, { error: result.error.code, message: result.error.message });
      }
      const { webhook } = result;
      received.push(webhook);
      if (received.length > KEPT) received.shift();
      reply(res, 204);
      if (options.onVerified) options.onVerified(webhook);
      else
        options.log(
          `webhook ${webhook.type} ${webhook.id} (event ${webhook.eventTimestamp}): ${JSON.stringify(webhook.data)}`,
        );
    },
  };
}
