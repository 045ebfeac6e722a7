import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { parseWebhookSecret, WEBHOOK_SIGNATURE_VERSION, type WebhookMessage } from "@psphub/protocol";
import { LruMap } from "../../common/lru-map.js";

/**
 * The delivery worker's signer: the `webhook-signature` value of @psphub/protocol's
 * `signWebhook` (a property test holds them equal), on node:crypto's synchronous HMAC, with each
 * endpoint's key opened and parsed once. WebCrypto's key import and its thread-pool round trip
 * were about a tenth of a delivery's CPU (bench B6).
 */
export class WebhookSigner {
  /** Keys by sealed secret; a rotated or deleted secret's entry ages out (least recently used). */
  private readonly keys: LruMap<string, KeyObject>;

  constructor(
    private readonly open: (sealed: string) => string,
    max = 1_024,
  ) {
    this.keys = new LruMap(max);
  }

  /** `v1,<signature>` per sealed secret, in the order given, space-separated. */
  sign(message: WebhookMessage & { body: string }, sealedSecrets: readonly string[]): string {
    const content = `${message.id}.${message.timestamp}.${message.body}`;
    return sealedSecrets
      .map(
        (s) =>
          `${WEBHOOK_SIGNATURE_VERSION},${createHmac("sha256", this.key(s)).update(content).digest("base64")}`,
      )
      .join(" ");
  }

  private key(sealed: string): KeyObject {
    let key = this.keys.get(sealed);
    if (!key) {
      key = createSecretKey(parseWebhookSecret(this.open(sealed)));
      this.keys.set(sealed, key);
    }
    return key;
  }
}
