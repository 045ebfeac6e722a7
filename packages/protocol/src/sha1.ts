// SHA-1 and constant-time comparison without static `node:` imports, so this package runs
// unchanged in Node and in a browser. Node (20.16+) lends its native implementation through
// `process.getBuiltinModule`; everywhere else a small pure implementation takes over.

/** The part of `node:crypto` this package uses. */
interface NodeCryptoLike {
  createHash(algorithm: string): { update(data: Uint8Array): { digest(encoding: "hex"): string } };
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

let nodeCryptoCache: NodeCryptoLike | null | undefined;

/** `node:crypto` when the runtime lends it (Node 20.16+), otherwise `null`. */
export function nodeCrypto(): NodeCryptoLike | null {
  if (nodeCryptoCache === undefined) {
    nodeCryptoCache = null;
    try {
      const proc = (globalThis as { process?: ProcessLike }).process;
      const mod = proc?.getBuiltinModule?.("node:crypto") as Partial<NodeCryptoLike> | undefined;
      if (typeof mod?.createHash === "function" && typeof mod.timingSafeEqual === "function") {
        nodeCryptoCache = mod as NodeCryptoLike;
      }
    } catch {
      // A runtime that pretends to be Node but cannot load the module: use the pure path.
    }
  }
  return nodeCryptoCache;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string: the bytes that get signed (docs/psp-open-api.md#signature-string-a). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

const HEX = "0123456789ABCDEF";

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** SHA-1 of `bytes` as upper-case hex, in plain TypeScript (FIPS 180-4, section 6.1). */
export function sha1Pure(bytes: Uint8Array): string {
  const length = bytes.length;
  const padded = new Uint8Array((((length + 8) >>> 6) + 1) << 6);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  // Message length in bits as a 64-bit big-endian integer.
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);

  let h0 = 0x67452301;
  let h1 = 0xefcdab89;
  let h2 = 0x98badcfe;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);

  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block + i * 4);
    for (let i = 16; i < 80; i++) {
      w[i] = rotl(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const t = (rotl(a, 5) + f + e + k + w[i]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }

  let out = "";
  for (const h of [h0, h1, h2, h3, h4]) {
    for (let shift = 28; shift >= 0; shift -= 4) out += HEX[(h >>> shift) & 0xf];
  }
  return out;
}

/** SHA-1 of `bytes` as upper-case hex through `node:crypto`; `null` where it is not available. */
export function sha1Node(bytes: Uint8Array): string | null {
  const crypto = nodeCrypto();
  return crypto ? crypto.createHash("sha1").update(bytes).digest("hex").toUpperCase() : null;
}

/** SHA-1 of the UTF-8 bytes of `text`, upper-case hex: native where possible, else pure. */
export function sha1Hex(text: string): string {
  const bytes = utf8(text);
  return sha1Node(bytes) ?? sha1Pure(bytes);
}

/** Byte equality that always looks at every byte (no early exit). Lengths must match. */
export function xorEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Constant-time equality of two byte strings of the same, public length (`crypto.timingSafeEqual`
 * where available, else {@link xorEqual}). Different lengths answer false at once: the length of
 * a SHA-1 hex digest is no secret.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const crypto = nodeCrypto();
  return crypto ? crypto.timingSafeEqual(a, b) : xorEqual(a, b);
}
