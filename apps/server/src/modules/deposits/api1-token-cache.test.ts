import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { SecretBox } from "../../infra/crypto/secret-box.js";
import { API1_TOKENS_MAX, Api1TokenCache } from "./api1-token-cache.js";

/** The API-1 tokens kept decrypted per ciphertext (api1-token-cache.ts). */
describe("Api1TokenCache", () => {
  const newBox = () => new SecretBox(randomBytes(32));

  it("decrypts a ciphertext once and answers the same token afterwards", () => {
    const box = newBox();
    const tokens = new Api1TokenCache(box);
    const sealed = box.seal("token-one");
    const open = vi.spyOn(box, "open");
    expect(tokens.open(sealed)).toBe("token-one");
    expect(tokens.open(sealed)).toBe("token-one");
    expect(tokens.open(sealed)).toBe("token-one");
    expect(open).toHaveBeenCalledTimes(1);
  });

  it("answers a rotated token at once: its ciphertext is another key", () => {
    const box = newBox();
    const tokens = new Api1TokenCache(box);
    const before = box.seal("token-before");
    const after = box.seal("token-after");
    expect(tokens.open(before)).toBe("token-before");
    expect(tokens.open(after)).toBe("token-after");
    expect(tokens.open(before)).toBe("token-before");
  });

  it("keeps tokens per SecretBox: another key never gets a token it cannot decrypt", () => {
    const a = newBox();
    const b = newBox();
    const sealed = a.seal("token-of-a");
    expect(new Api1TokenCache(a).open(sealed)).toBe("token-of-a");
    expect(() => new Api1TokenCache(b).open(sealed)).toThrow();
  });

  it("keeps no failure: an unreadable ciphertext is tried, and refused, every time", () => {
    const box = newBox();
    const tokens = new Api1TokenCache(box);
    const open = vi.spyOn(box, "open");
    expect(() => tokens.open("v1.broken")).toThrow();
    expect(() => tokens.open("v1.broken")).toThrow();
    expect(open).toHaveBeenCalledTimes(2);
    expect(tokens.size).toBe(0);
  });

  it("keeps at most 256 tokens, dropping the least recently used first", () => {
    const box = newBox();
    const tokens = new Api1TokenCache(box);
    const sealed = Array.from({ length: 257 }, (_, i) => box.seal(`token-${i}`));
    for (const s of sealed.slice(0, 256)) tokens.open(s);
    tokens.open(sealed[0]!); // used again: now the most recent
    tokens.open(sealed[256]!); // the 257th drops the least recently used: token-1
    const open = vi.spyOn(box, "open");
    expect(tokens.open(sealed[0]!)).toBe("token-0");
    expect(tokens.open(sealed[2]!)).toBe("token-2");
    expect(open).not.toHaveBeenCalled();
    expect(tokens.open(sealed[1]!)).toBe("token-1");
    expect(open).toHaveBeenCalledTimes(1);
    expect(tokens.size).toBe(API1_TOKENS_MAX);
  });
});
