import type { SecretBox } from "../../infra/crypto/secret-box.js";

/** Most plaintext tokens kept, the least recently used dropped first. */
export const API1_TOKENS_MAX = 256;

/**
 * Integrations' API-1 tokens, decrypted once per ciphertext and kept in this process (an
 * AES-GCM open per deposit was a visible cost in bench B3). The ciphertext is the key: a
 * rotated or replaced token has a new one, so a kept token is never stale. One per AppContext
 * (app-context.ts), over its SecretBox: another key never sees these tokens.
 */
export class Api1TokenCache {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly box: SecretBox) {}

  /** Tokens kept now (at most {@link API1_TOKENS_MAX}). */
  get size(): number {
    return this.tokens.size;
  }

  /** The plaintext of a sealed token; throws, and keeps nothing, when the box cannot open it. */
  open(sealed: string): string {
    const kept = this.tokens.get(sealed);
    if (kept !== undefined) {
      this.tokens.delete(sealed);
      this.tokens.set(sealed, kept);
      return kept;
    }
    const token = this.box.open(sealed);
    if (this.tokens.size >= API1_TOKENS_MAX) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(sealed, token);
    return token;
  }
}
