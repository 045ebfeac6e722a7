/**
 * A pass-through around node's real `crypto.scrypt` for tests that count password hashing work
 * (hashing-concurrency.test.ts, login-busy.db.test.ts): it records every call in flight, the
 * most ever in flight together, and the order calls began; while `hold` is set, it keeps the
 * answer of each call that finishes until `releaseHeld()`, so a test can keep the hashing slots busy
 * without timing anything. Install it with vi.mock("node:crypto", ...) in the test file.
 */
export const scryptProbe = {
  inFlight: 0,
  maxInFlight: 0,
  started: [] as string[],
  hold: false,
  held: [] as (() => void)[],
  reset() {
    this.maxInFlight = this.inFlight;
    this.started = [];
  },
  releaseHeld() {
    this.hold = false;
    for (const answer of this.held.splice(0)) answer();
  },
};

type ScryptCallback = (err: Error | null, key: Buffer) => void;
type Scrypt = (password: unknown, salt: unknown, keylen: number, ...rest: unknown[]) => void;

export function probedScrypt(real: Scrypt): Scrypt {
  return (password, salt, keylen, ...rest) => {
    const cb = rest.pop() as ScryptCallback;
    scryptProbe.inFlight++;
    scryptProbe.maxInFlight = Math.max(scryptProbe.maxInFlight, scryptProbe.inFlight);
    scryptProbe.started.push(String(password));
    real(password, salt, keylen, ...rest, (err: Error | null, key: Buffer) => {
      const answer = () => {
        scryptProbe.inFlight--;
        cb(err, key);
      };
      if (scryptProbe.hold) scryptProbe.held.push(answer);
      else answer();
    });
  };
}
