import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../config/config.js";

const VERSION = "v1";

/**
 * Encrypts secrets at rest (integration tokens) with AES-256-GCM. The stored form is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url, so the format can change without a guess.
 * Seals with the current key; opens with it or, during a rotation, with the previous key
 * (ENCRYPTION_KEY_PREVIOUS) until `psphub keys reencrypt` has resealed everything.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly #previous: Buffer | undefined;
  #missing: string | undefined;

  constructor(key: Buffer, previous?: Buffer) {
    if (key.length !== 32 || (previous && previous.length !== 32))
      throw new Error("SecretBox needs a 32-byte key");
    this.#key = key;
    this.#previous = previous;
  }

  /**
   * A box that refuses to seal or open, with `reason` (a ConfigError): where no key may be
   * made up on the spot (PostgreSQL without ENCRYPTION_KEY, app-context.ts).
   */
  static keyless(reason: string): SecretBox {
    const box = new SecretBox(randomBytes(32));
    box.#missing = reason;
    return box;
  }

  /**
   * A 32-byte key for one `purpose` (HKDF-SHA256 over the current key): every process with the
   * same ENCRYPTION_KEY derives the same one, and no purpose's key tells anything of another's.
   */
  deriveKey(purpose: string): Buffer {
    if (this.#missing) throw new ConfigError(this.#missing);
    return Buffer.from(hkdfSync("sha256", this.#key, Buffer.alloc(0), `psphub:${purpose}`, 32));
  }

  seal(plaintext: string): string {
    if (this.#missing) throw new ConfigError(this.#missing);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString("base64url"), tag.toString("base64url"), ct.toString("base64url")].join(".");
  }

  open(sealed: string): string {
    if (this.#missing) throw new ConfigError(this.#missing);
    if (!this.#previous) return openWith(this.#key, sealed);
    try {
      return openWith(this.#key, sealed);
    } catch {
      return openWith(this.#previous, sealed);
    }
  }

  /** Whether the current key opens `sealed` (what `psphub keys reencrypt` leaves alone). */
  sealedWithCurrent(sealed: string): boolean {
    try {
      openWith(this.#key, sealed);
      return true;
    } catch {
      return false;
    }
  }

  /** Never let the key reach a log line through a stray serialisation. */
  toJSON(): string {
    return "[SecretBox]";
  }
}

function openWith(key: Buffer, sealed: string): string {
  const [version, iv, tag, ct] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error("unrecognised sealed secret");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

/**
 * The embedded default: when no key is configured, keep one in DATA_DIR/secret.key,
 * created on first run with owner-only permissions.
 */
export function loadOrCreateKeyFile(dataDir: string): Buffer {
  const file = join(dataDir, "secret.key");
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  }
  // Owner-only when psphub makes it; an existing directory is left as it is.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return key;
}
