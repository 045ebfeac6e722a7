import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { SecretBox } from "../../infra/crypto/secret-box.js";
import { openApi1Token } from "./create-deposit.js";

/** The API-1 token kept decrypted per ciphertext (create-deposit.ts). */
describe("openApi1Token", () => {
  const newBox = () => new SecretBox(randomBytes(32));

  it("decrypts a ciphertext once and answers the same token afterwards", () => {
    const box = newBox();
    const sealed = box.seal("token-one");
    const open = vi.spyOn(box, "open");
    expect(openApi1Token(box, sealed)).toBe("token-one");
    expect(openApi1Token(box, sealed)).toBe("token-one");
    expect(openApi1Token(box, sealed)).toBe("token-one");
    expect(open).toHaveBeenCalledTimes(1);
  });

  it("answers a rotated token at once: its ciphertext is another key", () => {
    const box = newBox();
    const before = box.seal("token-before");
    const after = box.seal("token-after");
    expect(openApi1Token(box, before)).toBe("token-before");
    expect(openApi1Token(box, after)).toBe("token-after");
    expect(openApi1Token(box, before)).toBe("token-before");
  });

  it("keeps tokens per SecretBox: another key never gets a token it cannot decrypt", () => {
    const a = newBox();
    const b = newBox();
    const sealed = a.seal("token-of-a");
    expect(openApi1Token(a, sealed)).toBe("token-of-a");
    expect(() => openApi1Token(b, sealed)).toThrow();
  });

  it("keeps no failure: an unreadable ciphertext is tried, and refused, every time", () => {
    const box = newBox();
    const open = vi.spyOn(box, "open");
    expect(() => openApi1Token(box, "v1.broken")).toThrow();
    expect(() => openApi1Token(box, "v1.broken")).toThrow();
    expect(open).toHaveBeenCalledTimes(2);
  });

  it("keeps at most 256 tokens, dropping the least recently used first", () => {
    const box = newBox();
    const sealed = Array.from({ length: 257 }, (_, i) => box.seal(`token-${i}`));
    for (const s of sealed.slice(0, 256)) openApi1Token(box, s);
    openApi1Token(box, sealed[0]!); // used again: now the most recent
    openApi1Token(box, sealed[256]!); // the 257th drops the least recently used: token-1
    const open = vi.spyOn(box, "open");
    expect(openApi1Token(box, sealed[0]!)).toBe("token-0");
    expect(openApi1Token(box, sealed[2]!)).toBe("token-2");
    expect(open).not.toHaveBeenCalled();
    expect(openApi1Token(box, sealed[1]!)).toBe("token-1");
    expect(open).toHaveBeenCalledTimes(1);
  });
});
