// fast-check arbitraries shared by this package's tests (not exported from index.ts).
import fc from "fast-check";
import type { FlatParams, FlatValue } from "./signature.js";

/** Settings for every property: the brief asks for at least 1000 runs each. */
export const RUNS = { numRuns: 1000 } as const;

/** Strings that stress signing: Unicode incl. astral, `&`, `=`, spaces, and ASCII. */
export const wildString = (maxLength = 12): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: "binary", maxLength }),
    fc.string({ unit: "grapheme-ascii", maxLength }),
    fc.string({ unit: fc.constantFrom("a", "&", "=", " ", "é", "😀", "\u0000", "\uffff"), maxLength }),
  );

/** Keys of a flat body: anything but `sign`, including `__proto__`-like names. */
export const flatKey: fc.Arbitrary<string> = fc
  .oneof(
    { arbitrary: wildString(), weight: 4 },
    {
      arbitrary: fc.constantFrom("amount", "__proto__", "constructor", "toString", "Sign", "a&b", "k=v", ""),
      weight: 1,
    },
  )
  .filter((key) => key !== "sign");

/** Finite numbers as JSON can carry them. */
export const flatNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.integer({ min: 0, max: 100_000 }).map((n) => n / 100),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE),
);

/** Values that survive JSON (no undefined). */
export const jsonFlatValue: fc.Arbitrary<Exclude<FlatValue, undefined>> = fc.oneof(
  { arbitrary: wildString(), weight: 4 },
  { arbitrary: flatNumber, weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constantFrom(null, "", 0, false), weight: 1 },
);

/** A null-prototype object from entries with unique keys (so `__proto__` is a plain key). */
export function fromEntries<V>(entries: ReadonlyArray<readonly [string, V]>): Record<string, V> {
  const out: Record<string, V> = Object.create(null);
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** Flat bodies whose values all survive JSON. */
export const jsonFlatParams: fc.Arbitrary<FlatParams> = fc
  .uniqueArray(fc.tuple(flatKey, jsonFlatValue), { selector: (entry) => entry[0], maxLength: 10 })
  .map(fromEntries);

/** Flat bodies, `undefined` values included. */
export const flatParams: fc.Arbitrary<FlatParams> = fc
  .uniqueArray(fc.tuple(flatKey, fc.option(jsonFlatValue, { nil: undefined, freq: 8 })), {
    selector: (entry) => entry[0],
    maxLength: 10,
  })
  .map(fromEntries);

/** Tokens: non-empty, any characters. */
export const token: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
  fc.stringMatching(/^[0-9a-f]{32}$/),
);
