import { afterAll, describe, expect, it } from "vitest";
import type { PsphubProcess } from "../support/processes.js";
import { type DbKind, seed } from "../support/seed.js";
import { cleanUp, freshDatabase, serve } from "./support/harness.js";

// R7: password guessing in parallel against real `psphub serve` processes.
// A login attempt is reserved in the database before its password is checked, so however many
// guesses arrive at once, and at however many processes, at most the limit are checked: the
// others are answered 429 without a password check. A check of a wrong password answers 401, so
// the 401s count the checks.

const LIMIT = 10;
const PARALLEL = 200;

afterAll(cleanUp);

type Answer = { status: number; retryAfter: string | null };

async function login(server: PsphubProcess, path: string, body: object): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get("retry-after") };
}

const count = (answers: Answer[], status: number) => answers.filter((a) => a.status === status).length;

describe.each([
  ["sqlite", 1],
  ["postgres", 2],
] as [DbKind, number][])("R7 parallel logins on %s, %i process(es)", (kind, processes) => {
  it(`${PARALLEL} parallel wrong passwords get at most ${LIMIT} password checks; 99 wrong + 1 right then do not log in`, async () => {
    const db = await freshDatabase(kind, "r7");
    const s = await seed(db, { clients: 2 });
    const servers = await Promise.all(
      Array.from({ length: processes }, () => serve(db, { LOGIN_RATE_LIMIT_PER_MINUTE: String(LIMIT) })),
    );
    const at = (i: number) => servers[i % servers.length]!;
    const staff = (password: string) => ({ email: s.ownerEmail, password });

    const guesses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        login(at(i), "/api/auth/login", staff(`wrong password ${i}`)),
      ),
    );
    expect({ checked: count(guesses, 401), refused: count(guesses, 429) }).toEqual({
      checked: LIMIT,
      refused: PARALLEL - LIMIT,
    });
    for (const a of guesses.filter((g) => g.status === 429)) expect(Number(a.retryAfter)).toBeGreaterThan(0);

    // The limit is reached: 99 wrong and the right password at once are all refused unchecked.
    const mixed = await Promise.all([
      ...Array.from({ length: 99 }, (_, i) => login(at(i), "/api/auth/login", staff(`again ${i}`))),
      login(at(99), "/api/auth/login", staff(s.ownerPassword)),
    ]);
    expect(count(mixed, 429)).toBe(100);

    // The portal login, on an account nobody has guessed yet: 99 wrong and 1 right at once. A
    // success gives its own reservation back, so at most one more guess is checked after it.
    const portal = (password: string) => ({ tenant: s.slug, email: "client-1@bench.test", password });
    const race = await Promise.all([
      ...Array.from({ length: 99 }, (_, i) => login(at(i), "/api/portal/auth/login", portal(`guess ${i}`))),
      login(at(99), "/api/portal/auth/login", portal(s.clientPassword)),
    ]);
    expect(count(race, 401)).toBeLessThanOrEqual(LIMIT);
    expect(count(race, 200)).toBeLessThanOrEqual(1);
    expect(count(race, 401) + count(race, 200) + count(race, 429)).toBe(100);
    expect((await login(at(0), "/api/portal/auth/login", portal(s.clientPassword))).status).toBe(429);
  });
});
