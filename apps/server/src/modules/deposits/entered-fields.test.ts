import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { enteredFields } from "./entered-fields.js";

const params = [
  { key: "custom_2", label: "Reference", order: 2 },
  { key: "custom_1", label: "Bank account", order: 1 },
  { key: "custom_3", label: "  ", order: 3 },
];

describe("entered deposit fields", () => {
  it("labels each field by the method, then the integration, then the key, in the integration's order", () => {
    expect(
      enteredFields(
        { custom_2: "R-1", custom_1: "DE89", custom_3: "x", legacy: "old" },
        { custom_1: "IBAN or account number", custom_2: " " },
        params,
      ),
    ).toEqual([
      { key: "custom_1", label: "IBAN or account number", value: "DE89" },
      { key: "custom_2", label: "Reference", value: "R-1" },
      { key: "custom_3", label: "custom_3", value: "x" },
      { key: "legacy", label: "legacy", value: "old" },
    ]);
  });

  it("lists every entered value once, and nothing that was not entered", () => {
    const key = fc.constantFrom("custom_1", "custom_2", "custom_3", "a", "b", "toString", "__proto__");
    fc.assert(
      fc.property(fc.dictionary(key, fc.string()), fc.dictionary(key, fc.string()), (values, labels) => {
        const out = enteredFields(values, labels, params);
        expect(out.map((f) => f.key).sort()).toEqual(Object.keys(values).sort());
        for (const f of out) {
          expect(f.value).toBe(values[f.key]);
          expect(f.label.trim()).not.toBe("");
        }
      }),
    );
  });
});
