import { createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dummyPasswordHash, hashPassword, safeEqual, verifyPassword } from "./hashing.js";
import { loadOrCreateKeyFile, SecretBox } from "./secret-box.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "psphub-crypto-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("SecretBox: tokens at rest with AES-256-GCM", () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const token = "ngzBfCtb3_huW1TXcXUHu_-4x6UTuDR4HpEgfOtRCKQ";

  it("is AES-256-GCM: the sealed form decrypts with node's aes-256-gcm and the key, and nothing else", () => {
    const sealed = box.seal(token);
    expect(sealed).not.toContain(token);
    const [version, iv, tag, ct] = sealed.split(".");
    expect(version).toBe("v1");
    expect(Buffer.from(iv!, "base64url")).toHaveLength(12);
    expect(Buffer.from(tag!, "base64url")).toHaveLength(16);
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url"));
    d.setAuthTag(Buffer.from(tag!, "base64url"));
    expect(Buffer.concat([d.update(Buffer.from(ct!, "base64url")), d.final()]).toString("utf8")).toBe(token);
    expect(box.open(sealed)).toBe(token);
  });

  it("uses a fresh IV for every seal", () => {
    const a = box.seal(token);
    const b = box.seal(token);
    expect(a).not.toBe(b);
    expect(a.split(".")[1]).not.toBe(b.split(".")[1]);
    expect(box.open(a)).toBe(box.open(b));
  });

  it("refuses a tampered ciphertext, tag or IV, another key and an unknown format", () => {
    const sealed = box.seal(token);
    const [v, iv, tag, ct] = sealed.split(".") as [string, string, string, string];
    const flip = (b64: string) => {
      const buf = Buffer.from(b64, "base64url");
      buf[0]! ^= 1;
      return buf.toString("base64url");
    };
    for (const bad of [
      [v, iv, tag, flip(ct)],
      [v, iv, flip(tag), ct],
      [v, flip(iv), tag, ct],
    ]) {
      expect(() => box.open(bad.join("."))).toThrow();
    }
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
    expect(() => box.open(`v2.${iv}.${tag}.${ct}`)).toThrow(/unrecognised/);
    expect(() => box.open("plain text")).toThrow(/unrecognised/);
  });

  it("needs a 32-byte key (AES-256) and never serialises it", () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32-byte/);
    expect(JSON.stringify({ box })).toBe('{"box":"[SecretBox]"}');
    expect(JSON.stringify({ box })).not.toContain(key.toString("base64"));
  });
});

describe("SecretBox with a previous key (ENCRYPTION_KEY_PREVIOUS)", () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it("opens what either key sealed and seals with the current key only", () => {
    const before = new SecretBox(oldKey).seal("sealed before the rotation");
    const box = new SecretBox(newKey, oldKey);
    expect(box.open(before)).toBe("sealed before the rotation");
    const after = box.seal("sealed after");
    expect(new SecretBox(newKey).open(after)).toBe("sealed after");
    expect(() => new SecretBox(oldKey).open(after)).toThrow();
    expect(box.sealedWithCurrent(after)).toBe(true);
    expect(box.sealedWithCurrent(before)).toBe(false);
    // A third key's secret opens with neither.
    expect(() => box.open(new SecretBox(randomBytes(32)).seal("x"))).toThrow();
  });

  it("never serialises the previous key either", () => {
    const box = new SecretBox(newKey, oldKey);
    expect(JSON.stringify({ box })).not.toContain(oldKey.toString("base64"));
  });

  it("a box without a key refuses to seal or open, naming ENCRYPTION_KEY", () => {
    const box = SecretBox.keyless("ENCRYPTION_KEY is required on PostgreSQL");
    expect(() => box.seal("t")).toThrow(/ENCRYPTION_KEY is required/);
    expect(() => box.open(new SecretBox(newKey).seal("t"))).toThrow(/ENCRYPTION_KEY is required/);
  });
});

describe("the embedded default key file", () => {
  it("is created on first run with owner-only permissions, and the same key is read on later runs", () => {
    const dir = join(tempDir(), "nested", "data");
    const first = loadOrCreateKeyFile(dir);
    expect(first).toHaveLength(32);
    const file = join(dir, "secret.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The data directory it made is the owner's only, whatever the umask.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(Buffer.from(readFileSync(file, "utf8").trim(), "base64").equals(first)).toBe(true);
    const again = loadOrCreateKeyFile(dir);
    expect(again.equals(first)).toBe(true);
    // A token sealed on the first run opens on the next.
    expect(new SecretBox(again).open(new SecretBox(first).seal("t"))).toBe("t");
  });

  it("refuses a key file that does not hold 32 bytes instead of replacing it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "secret.key"), `${randomBytes(16).toString("base64")}\n`);
    expect(() => loadOrCreateKeyFile(dir)).toThrow(/32-byte/);
    expect(readFileSync(join(dir, "secret.key"), "utf8").trim()).toHaveLength(24);
  });
});

describe("passwords: scrypt", () => {
  it("stores a self-describing scrypt hash with a random salt", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).not.toBe(b);
    const [algo, n, r, p, salt, hash] = a.split("$");
    expect(algo).toBe("scrypt");
    expect(Number(n)).toBeGreaterThanOrEqual(1024);
    expect([r, p]).toEqual(["8", "1"]);
    expect(Buffer.from(salt!, "base64url")).toHaveLength(16);
    // It is what node's scrypt computes with those parameters: no other KDF hides behind the name.
    const expected = scryptSync("correct horse battery", Buffer.from(salt!, "base64url"), 32, {
      N: Number(n),
      r: 8,
      p: 1,
    });
    expect(Buffer.from(hash!, "base64url").equals(expected)).toBe(true);
    expect(a).not.toContain("correct horse battery");
  });

  it("verifies the right password only, and hashes made with other parameters", async () => {
    const stored = await hashPassword("correct horse battery");
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
    // Hashes stored at the lower cost of older versions (N = 16384) still verify.
    const salt = randomBytes(16);
    const key = scryptSync("pw", salt, 32, { N: 16384, r: 8, p: 1 });
    const production = ["scrypt", 16384, 8, 1, salt.toString("base64url"), key.toString("base64url")].join(
      "$",
    );
    expect(await verifyPassword("pw", production)).toBe(true);
    expect(await verifyPassword("pw2", production)).toBe(false);
  });

  it("refuses malformed hashes, and the dummy hash matches no password", async () => {
    for (const bad of ["", "plain", "bcrypt$10$x", "scrypt$16384$8$1$salt", "md5$1$1$1$a$b"]) {
      expect(await verifyPassword("pw", bad)).toBe(false);
    }
    expect(await verifyPassword("", dummyPasswordHash())).toBe(false);
    expect(await verifyPassword("password", dummyPasswordHash())).toBe(false);
  });

  it("compares secrets in constant time helpers that answer like ===", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "")).toBe(true);
  });
});
