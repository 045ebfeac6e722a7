import { sign } from "@psphub/protocol";
import fc from "fast-check";
import { Pool } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertIntegration } from "../../apps/server/src/test/payment-fixtures.js";
import type { PsphubProcess } from "../support/processes.js";
import { insertOrders, type Seed, seed, withContext } from "../support/seed.js";
import {
  cleanUp,
  type DbKind,
  freshDatabase,
  linesMentioning,
  moneySnapshot,
  ORDER,
  orderNo,
  pool,
  portalLogin,
  reportSuccess,
  type ScratchDb,
  serve,
} from "./support/harness.js";

// R3: generated bad requests, over real HTTP to a `psphub serve` child.
// API-2: at least 10,000 per database (broken JSON, wrong types, huge and deep bodies, missing
// and extra keys, bad headers, valid signs over wrong data, replays with changed fields): every
// answer is 400/401/413 with a JSON error `type`, never 5xx, and no money moves.
// The client deposit API: every bad input answers a 4xx JSON error, never 5xx, no order is made.
// The generators are fast-check arbitraries sampled with a printed seed (PSPHUB_FUZZ_SEED replays).

const CALLBACKS = Number(process.env.PSPHUB_FUZZ_CALLBACKS ?? 10_000);
const DEPOSITS = Number(process.env.PSPHUB_FUZZ_DEPOSITS ?? 2_000);
const SEED = Number(process.env.PSPHUB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CALLBACK_PATH = "/api/psp/pay/callback";

afterAll(cleanUp);

type Req = { why: string; headers: Record<string, string>; body: string };
type Field = string | number | boolean | null | { literal: string };

/** A JSON body with the fields in order (numbers as literals), `sign` appended unless null. */
function body(fields: Record<string, Field>, signature: string | null): string {
  const parts = Object.entries(fields).map(([k, v]) => {
    const text = typeof v === "object" && v !== null ? v.literal : JSON.stringify(v);
    return `${JSON.stringify(k)}:${text}`;
  });
  if (signature !== null) parts.push(`"sign":${JSON.stringify(signature)}`);
  return `{${parts.join(",")}}`;
}

/** The correct sign of `fields` under `token` (over the literal text of numbers). */
function signOf(fields: Record<string, Field>, token: string): string {
  const params: Record<string, string | number | boolean | null> = {};
  const literals: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "object" && v !== null) {
      params[k] = Number(v.literal);
      literals[k] = v.literal;
    } else params[k] = v;
  }
  return sign(params, token, { literals });
}

const signed = (fields: Record<string, Field>, token: string) => body(fields, signOf(fields, token));

type World = {
  a: Seed;
  b: Seed;
  disabled: { merchantId: string; token: string };
  pending: string[];
  succeeded: string[];
  foreign: string[];
};

const fieldsFor = (s: Pick<Seed, "merchantId">, no: string, over: Record<string, Field> = {}) => ({
  merchant_id: s.merchantId,
  order_no: no,
  transaction_id: `tx-${no}`,
  amount: { literal: ORDER.amountText } as Field,
  currency: "USD",
  time: 1_767_225_600_000,
  status: 1 as Field,
  ...over,
});

/** Amounts that are never the order's 100.00 (1E2, 100.0 and 100 would be: excluded). */
const wrongAmount = fc.oneof(
  fc.constantFrom("100.01", "99.99", "0", "0.00", "1000", "10000", "100.001", "-100", "1e3", "97.20"),
  fc
    .integer({ min: 0, max: 10_000_000 })
    .filter((n) => n !== 10_000)
    .map((n) => (n / 100).toFixed(2)),
);
const wrongValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const MANDATORY = ["merchant_id", "order_no", "amount", "currency", "time", "status"] as const;

/** Every kind of bad API-2 request, each one that must be refused whatever the fuzzer picks. */
function badCallback(w: World): fc.Arbitrary<Req> {
  const A = w.a;
  const json = (token: string | null, b: string, why: string, ct = "application/json"): Req => ({
    why,
    body: b,
    headers: { ...(ct ? { "content-type": ct } : {}), ...(token !== null ? { "crm-pay-token": token } : {}) },
  });
  const succeeded = fc.constantFrom(...w.succeeded);
  const pending = fc.constantFrom(...w.pending);
  const foreign = fc.constantFrom(...w.foreign);
  // A signed replay of a settled order that contradicts it: the base of every mutation below,
  // so that no mutation can ever turn it into a valid callback.
  const contradicting = succeeded.map((no) => signed(fieldsFor(A, no, { status: 0 }), A.token));

  const brokenJson = fc.oneof(
    fc.string({ maxLength: 200 }).map((t) => json(A.token, t, "random text")),
    fc.string({ unit: "grapheme", maxLength: 200 }).map((t) => json(A.token, t, "random unicode")),
    fc
      .tuple(contradicting, fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([b, f]) => json(A.token, b.slice(0, Math.floor(b.length * f)), "truncated")),
    fc.tuple(contradicting, fc.nat(), fc.string({ minLength: 1, maxLength: 3 })).map(([b, i, c]) => {
      const at = i % b.length;
      return json(A.token, b.slice(0, at) + c + b.slice(at + 1), "one character changed");
    }),
    fc
      .constantFrom("", " ", "null", "[]", "{}", "[1,2]", '"text"', "123", "{,}", '{"a":1,}', "\u0000")
      .map((t) => json(A.token, t, "not an object")),
    fc
      .tuple(succeeded, fc.constantFrom('"merchant_id":"x","merchant_id":"y"', '"status":1,"status":0'))
      .map(([no, dup]) =>
        json(A.token, `{"order_no":"${no}",${dup},"sign":"${"A".repeat(40)}"}`, "duplicate keys"),
      ),
  );

  const wrongTypes = fc
    .tuple(succeeded, fc.constantFrom(...MANDATORY, "transaction_id", "sign"), wrongValue, fc.boolean())
    .map(([no, key, v, resign]) => {
      const f: Record<string, Field> = fieldsFor(A, no, { status: 0 });
      if (key === "sign")
        return json(
          A.token,
          body(f, null).replace(/}$/, `,"sign":${JSON.stringify(v)}}`),
          "sign of a wrong type",
        );
      const text = body(f, resign ? signOf(f, A.token) : "0".repeat(40)).replace(
        new RegExp(`"${key}":(?:"[^"]*"|[^,}]*)`),
        `"${key}":${JSON.stringify(v)}`,
      );
      return json(A.token, text, `wrong type for ${key}`);
    });

  const huge = fc.oneof(
    fc
      .integer({ min: 16_400, max: 60_000 })
      .map((n) =>
        json(
          A.token,
          signed(fieldsFor(A, w.succeeded[0]!, { status: 0, pad: "x".repeat(n) }), A.token),
          "over the body limit",
        ),
      ),
    fc
      .integer({ min: 1_000, max: 15_000 })
      .chain((n) =>
        succeeded.map((no) =>
          json(
            A.token,
            signed(fieldsFor(A, no, { status: 0, pad: "y".repeat(n) }), A.token),
            "large, under the limit",
          ),
        ),
      ),
    fc.integer({ min: 100, max: 400 }).map((n) => {
      const f: Record<string, Field> = fieldsFor(A, w.succeeded[1]!, { status: 0 });
      for (let i = 0; i < n; i++) f[`k${i}`] = i;
      return json(A.token, signed(f, A.token), "hundreds of keys");
    }),
  );

  const deep = fc
    .tuple(fc.integer({ min: 2, max: 8_000 }), fc.constantFrom("array", "object", "in-value"))
    .map(([d, shape]) => {
      const b =
        shape === "array"
          ? `${"[".repeat(d)}${"]".repeat(d)}`
          : shape === "object"
            ? `${'{"a":'.repeat(d)}1${"}".repeat(d)}`
            : `{"merchant_id":"${A.merchantId}","order_no":${"[".repeat(d)}${"]".repeat(d)}}`;
      return json(A.token, b, `nested ${shape} ${d} deep`);
    });

  const missingOrExtra = fc.oneof(
    fc.tuple(pending, fc.subarray([...MANDATORY], { minLength: 1 })).map(([no, drop]) => {
      const f: Record<string, Field> = fieldsFor(A, no);
      for (const k of drop) delete f[k];
      return json(A.token, signed(f, A.token), `missing ${drop.join(",")} (signed)`);
    }),
    fc.tuple(pending).map(([no]) => json(A.token, body(fieldsFor(A, no), null), "no sign")),
    fc
      .tuple(
        succeeded,
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(k in fieldsFor(A, "x")) && k !== "sign"),
          fc.string({ maxLength: 10 }),
          { minKeys: 1, maxKeys: 4 },
        ),
      )
      .map(([no, extra]) =>
        json(
          A.token,
          signed({ ...fieldsFor(A, no, { status: 2 }), ...extra }, A.token),
          "extra keys (signed) on a settled order",
        ),
      ),
    fc
      .tuple(
        pending,
        fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(k in fieldsFor(A, "x")) && k !== "sign"),
      )
      .map(([no, k]) => {
        const f = fieldsFor(A, no);
        return json(A.token, body({ ...f, [k]: "extra" }, signOf(f, A.token)), "extra key outside the sign");
      }),
  );

  const contentTypes = fc.constantFrom(
    "text/plain",
    "application/xml",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "",
    "application/octet-stream",
  );
  // Not here: a token with leading or trailing spaces. HTTP trims header values, so that is the
  // right token, not a bad one.
  const badHeaders = fc.oneof(
    fc
      .tuple(pending, fc.constantFrom<string | null>(null, "", " ", "wrong", "x".repeat(8_000)))
      .map(([no, t]) =>
        json(t, signed(fieldsFor(A, no), A.token), `token ${t === null ? "missing" : "wrong"}`),
      ),
    fc
      .tuple(pending)
      .map(([no]) => json(w.b.token, signed(fieldsFor(A, no), A.token), "another integration's token")),
    fc
      .tuple(pending)
      .map(([no]) => json(A.token.toUpperCase(), signed(fieldsFor(A, no), A.token), "token in another case")),
    fc
      .tuple(succeeded, contentTypes)
      .map(([no, ct]) =>
        json(A.token, signed(fieldsFor(A, no, { status: 0 }), A.token), `content-type ${ct || "none"}`, ct),
      ),
  );

  const validSignWrongData = fc.oneof(
    fc
      .string({ minLength: 1, maxLength: 30 })
      // biome-ignore lint/suspicious/noControlCharactersInRegex: order numbers JSON would have to escape
      .filter((s) => !/[\u0000-\u001f"\\]/.test(s) && !s.startsWith("p") && !s.startsWith("s"))
      .map((no) => json(A.token, signed(fieldsFor(A, no), A.token), "unknown order")),
    foreign.map((no) => json(A.token, signed(fieldsFor(A, no), A.token), "another tenant's order")),
    pending.map((no) =>
      json(w.b.token, signed(fieldsFor(w.b, no), w.b.token), "our order under another merchant"),
    ),
    pending.map((no) =>
      json(w.disabled.token, signed(fieldsFor(w.disabled, no), w.disabled.token), "disabled integration"),
    ),
    fc
      .tuple(pending, fc.constantFrom("EUR", "usd", "US", "USDT", "", "XXX", "U$D"))
      .map(([no, c]) => json(A.token, signed(fieldsFor(A, no, { currency: c }), A.token), `currency ${c}`)),
    fc
      .tuple(pending, wrongAmount, fc.constantFrom<Field>(0, 1, 2))
      .map(([no, amt, st]) =>
        json(
          A.token,
          signed(fieldsFor(A, no, { amount: { literal: amt }, status: st }), A.token),
          `amount ${amt}`,
        ),
      ),
    fc
      // Not "1e0" or "2.0": those are the valid statuses 1 and 2 written another way.
      .tuple(pending, fc.constantFrom("3", "4", "-1", "10", "1.5", "99", "-0.5"))
      .map(([no, st]) =>
        json(A.token, signed(fieldsFor(A, no, { status: { literal: st } }), A.token), `status ${st}`),
      ),
    fc
      .tuple(pending, fc.constantFrom("A".repeat(40), "0".repeat(40), "xyz", "", "A".repeat(41)))
      .map(([no, sg]) => json(A.token, body(fieldsFor(A, no), sg), "forged sign")),
    pending.map((no) => json(A.token, signed(fieldsFor(A, no), w.b.token), "signed with another token")),
  );

  const replays = fc
    .tuple(
      succeeded,
      fc.constantFrom(
        "status 0",
        "status 2",
        "amount",
        "currency",
        "transaction_id unsigned",
        "order swap unsigned",
        "time unsigned",
      ),
      wrongAmount,
    )
    .map(([no, change, amt]) => {
      const orig = fieldsFor(A, no);
      const origSign = signOf(orig, A.token);
      switch (change) {
        case "status 0":
          return json(A.token, signed({ ...orig, status: 0 }, A.token), "replay: status 0");
        case "status 2":
          return json(A.token, signed({ ...orig, status: 2 }, A.token), "replay: status 2");
        case "amount":
          return json(A.token, signed({ ...orig, amount: { literal: amt } }, A.token), "replay: amount");
        case "currency":
          return json(A.token, signed({ ...orig, currency: "EUR" }, A.token), "replay: currency");
        case "transaction_id unsigned":
          return json(
            A.token,
            body({ ...orig, transaction_id: "tx-other" }, origSign),
            "replay: transaction_id",
          );
        case "order swap unsigned":
          return json(A.token, body({ ...orig, order_no: w.pending[0]! }, origSign), "replay: another order");
        default:
          return json(A.token, body({ ...orig, time: 1 }, origSign), "replay: time");
      }
    });

  return fc.oneof(
    { arbitrary: brokenJson, weight: 3 },
    { arbitrary: wrongTypes, weight: 2 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: missingOrExtra, weight: 2 },
    { arbitrary: badHeaders, weight: 2 },
    { arbitrary: validSignWrongData, weight: 3 },
    { arbitrary: replays, weight: 2 },
  );
}

/** A bad portal deposit request: one to three corruptions of a valid one, each enough to refuse it. */
function badDeposit(w: World, auth: Record<string, string>): fc.Arbitrary<Req> {
  const valid = { methodId: w.a.methodId, currency: "USD", amount: "100.00" };
  const nonNumeric = fc
    .string({ maxLength: 45 })
    .filter((s) => s.trim() === "" || !Number.isFinite(Number(s)));
  const corruption = fc.oneof(
    fc
      .oneof(
        fc.string({ minLength: 1, maxLength: 64 }).filter((s) => s !== w.a.methodId),
        fc.constant(w.b.methodId),
        wrongValue.filter((v) => typeof v !== "string"),
        fc.constant(""),
        fc.constant("m".repeat(65)),
      )
      .map((v) => ({ methodId: v, why: "methodId" })),
    fc
      .oneof(
        fc.string({ maxLength: 15 }).filter((s) => s.trim().toUpperCase() !== "USD"),
        wrongValue.filter((v) => typeof v !== "string"),
      )
      .map((v) => ({ currency: v, why: "currency" })),
    fc
      .oneof(
        nonNumeric,
        fc.constantFrom(
          "100.001",
          "9.99",
          "5000.01",
          "-100",
          "0",
          "1e30",
          "1e-5",
          "NaN",
          "Infinity",
          "0x64",
          "1".repeat(41),
        ),
        fc.double({ noNaN: true }),
        fc.integer(),
        fc.constant(null),
      )
      .map((v) => ({ amount: v, why: "amount" })),
    fc
      .oneof(
        fc.constantFrom<unknown>("x", 1, [], null, true),
        fc.constant(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, "v"]))),
        fc.constant({ ["k".repeat(65)]: "v" }),
        fc.constant({ bank: "v".repeat(1_001) }),
        fc.constant({ bank: { nested: 1 } }),
        fc.constant({ bank: 12 }),
      )
      .map((v) => ({ fields: v, why: "fields" })),
    fc.constantFrom("tablet", "", "PC", 1).map((v) => ({ device: v, why: "device" })),
    fc
      .constantFrom("english", "e", "en_US", "", "1234", "en-", 5)
      .map((v) => ({ language: v, why: "language" })),
  );
  const asBody = fc.array(corruption, { minLength: 1, maxLength: 3 }).map((cs): Req => {
    const b: Record<string, unknown> = { ...valid };
    const why: string[] = [];
    for (const { why: w1, ...c } of cs) {
      Object.assign(b, c);
      why.push(w1);
    }
    return {
      why: why.join("+"),
      body: JSON.stringify(b),
      headers: { ...auth, "content-type": "application/json" },
    };
  });
  const ok = JSON.stringify(valid);
  const transport = fc.oneof(
    fc.string({ maxLength: 100 }).map(
      (t): Req => ({
        why: "broken JSON",
        body: `{${t}`,
        headers: { ...auth, "content-type": "application/json" },
      }),
    ),
    fc
      .constantFrom("text/plain", "application/xml", "application/x-www-form-urlencoded")
      .map((ct): Req => ({ why: `content-type ${ct}`, body: ok, headers: { ...auth, "content-type": ct } })),
    fc.constant<Req>({
      why: "no CSRF token",
      body: ok,
      headers: { cookie: auth.cookie!, "content-type": "application/json" },
    }),
    fc.constant<Req>({
      why: "wrong CSRF token",
      body: ok,
      headers: { ...auth, "x-csrf-token": "nope", "content-type": "application/json" },
    }),
    fc.constant<Req>({ why: "no session", body: ok, headers: { "content-type": "application/json" } }),
    fc.constant<Req>({
      why: "forged session",
      body: ok,
      headers: { ...auth, cookie: "psphub_portal=forged", "content-type": "application/json" },
    }),
    fc.constant<Req>({
      why: "over-long Idempotency-Key",
      body: ok,
      headers: { ...auth, "idempotency-key": "k".repeat(101), "content-type": "application/json" },
    }),
    fc.constant<Req>({
      why: "huge body",
      body: JSON.stringify({ ...valid, pad: "x".repeat(300_000) }),
      headers: { ...auth, "content-type": "application/json" },
    }),
  );
  return fc.oneof({ arbitrary: asBody, weight: 4 }, { arbitrary: transport, weight: 1 });
}

async function send(client: Pool, path: string, r: Req): Promise<{ status: number; text: string }> {
  const res = await client.request({ method: "POST", path, headers: r.headers, body: r.body });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

describe.each(["sqlite", "postgres"] as DbKind[])("R3 fuzz on %s", (kind) => {
  let db: ScratchDb;
  let server: PsphubProcess;
  let w: World;
  let client: Pool;

  beforeAll(async () => {
    db = await freshDatabase(kind, "r3");
    // APP_URL on a port nothing listens on: an order that slipped through would still be counted.
    const a = await seed(db, { clients: 5, appUrl: "http://127.0.0.1:9" });
    const b = await seed(db, { clients: 5, slug: "other", clientPrefix: "o" });
    const disabled = await withContext(db, (ctx) => insertIntegration(ctx, a.tenantId, { enabled: false }));
    await insertOrders(db, a, { prefix: "p", count: 40, kind: "pending" });
    await insertOrders(db, a, { prefix: "s", count: 40, kind: "pending" });
    await insertOrders(db, b, { prefix: "f", count: 20, kind: "pending" });
    server = await serve(db, {
      ALLOW_PRIVATE_APP_URLS: "true",
      DEPOSIT_RATE_LIMIT_PER_MINUTE: "1000000",
      // Every fuzzed request is judged, not throttled (the flood limits have their own tests).
      CALLBACK_REJECTIONS_PER_MINUTE_PER_ADDRESS: "1000000",
      CALLBACK_REJECTIONS_PER_MINUTE_PER_MERCHANT: "1000000",
    });
    // The "s" orders succeed for real, so replays have a settled order (and money) to contradict.
    await pool(
      Array.from({ length: 40 }, (_, i) => orderNo("s", i)),
      8,
      async (no) => {
        expect((await reportSuccess(() => server.url, a, no)).kind).toBe("done");
      },
    );
    w = {
      a,
      b,
      disabled,
      pending: Array.from({ length: 40 }, (_, i) => orderNo("p", i)),
      succeeded: Array.from({ length: 40 }, (_, i) => orderNo("s", i)),
      foreign: Array.from({ length: 20 }, (_, i) => orderNo("f", i)),
    };
    client = new Pool(server.url, { connections: 16 });
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it(`${CALLBACKS} bad API-2 callbacks: 400/401/413 with a JSON type, never 5xx, no money moves (seed ${SEED})`, async () => {
    const before = await moneySnapshot(db);
    const reqs = fc.sample(badCallback(w), { numRuns: CALLBACKS, seed: SEED });
    const wrong: string[] = [];
    const byWhy = new Map<string, number>();
    const statuses = new Map<number, number>();
    const started = performance.now();
    await pool(reqs, 16, async (r) => {
      const kind = r.why.replace(/ \d+ deep$| [\d.e-]+$/, "");
      byWhy.set(kind, (byWhy.get(kind) ?? 0) + 1);
      const res = await send(client, CALLBACK_PATH, r);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      let type: unknown;
      try {
        const j = JSON.parse(res.text) as { error?: unknown; type?: unknown };
        type = j.error === true ? j.type : undefined;
      } catch {}
      if (![400, 401, 413].includes(res.status) || typeof type !== "string" || res.text.includes(w.a.token)) {
        if (wrong.length < 10)
          wrong.push(`${r.why}: ${res.status} ${res.text.slice(0, 120)} ← ${r.body.slice(0, 160)}`);
      }
    });
    console.log(
      `[R3 ${kind}] ${reqs.length} callbacks in ${((performance.now() - started) / 1000).toFixed(1)} s, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${byWhy.size} kinds`,
    );
    expect(wrong).toEqual([]);
    expect(await moneySnapshot(db)).toBe(before);
    expect(linesMentioning(w.a.token)).toEqual([]);
  });

  it(`${DEPOSITS} bad portal deposit requests: 4xx JSON errors, never 5xx, no order created (seed ${SEED})`, async () => {
    const auth = await portalLogin(server.url, w.a, 0);
    const before = await moneySnapshot(db);
    const reqs = fc.sample(badDeposit(w, auth), { numRuns: DEPOSITS, seed: SEED });
    const wrong: string[] = [];
    const statuses = new Map<number, number>();
    await pool(reqs, 8, async (r) => {
      const res = await send(client, "/api/portal/deposits", r);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      let code: unknown;
      try {
        code = (JSON.parse(res.text) as { error?: { code?: unknown } }).error?.code;
      } catch {}
      if (![400, 401, 403, 404, 409, 413, 415, 422].includes(res.status) || typeof code !== "string") {
        if (wrong.length < 10)
          wrong.push(`${r.why}: ${res.status} ${res.text.slice(0, 160)} ← ${r.body.slice(0, 160)}`);
      }
    });
    console.log(
      `[R3 ${kind}] ${reqs.length} deposit requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(wrong).toEqual([]);
    expect(await moneySnapshot(db)).toBe(before);
  });
});
