import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Role } from "../../infra/db/schema.js";
import { ROLE_PERMISSIONS, ROLES } from "../auth/permissions.js";
import { keyAccess, ROLE_RANK } from "./api-key-access.js";

const role = fc.constantFrom<Role>(...ROLES);
const revokedAt = fc.option(fc.nat(), { nil: null });

describe("keyAccess", () => {
  it("ranks every role, each one's permissions including the next one's (so the lesser role is a real minimum)", () => {
    expect([...ROLE_RANK].sort()).toEqual([...ROLES].sort());
    for (let i = 1; i < ROLE_RANK.length; i++) {
      const higher = ROLE_PERMISSIONS[ROLE_RANK[i - 1]!];
      for (const p of ROLE_PERMISSIONS[ROLE_RANK[i]!]) expect(higher.has(p)).toBe(true);
    }
  });

  it("never grants a permission that either the key's role or its creator's current role lacks", () => {
    fc.assert(
      fc.property(role, role, fc.boolean(), revokedAt, (keyRole, creatorRole, disabled, revoked) => {
        const a = keyAccess({ role: keyRole, revokedAt: revoked }, { role: creatorRole, disabled });
        if (a.effectiveRole === null) return;
        for (const p of ROLE_PERMISSIONS[a.effectiveRole]) {
          expect(ROLE_PERMISSIONS[keyRole].has(p)).toBe(true);
          expect(ROLE_PERMISSIONS[creatorRole].has(p)).toBe(true);
        }
      }),
    );
  });

  it("is suspended while the creator is disabled or missing, revoked for good, limited below its role", () => {
    fc.assert(
      fc.property(role, role, revokedAt, (keyRole, creatorRole, revoked) => {
        const key = { role: keyRole, revokedAt: revoked };
        const disabled = keyAccess(key, { role: creatorRole, disabled: true });
        const missing = keyAccess(key, null);
        const live = keyAccess(key, { role: creatorRole, disabled: false });
        if (revoked !== null) {
          for (const a of [disabled, missing, live])
            expect(a).toEqual({ status: "revoked", effectiveRole: null });
          return;
        }
        expect(disabled).toEqual({ status: "suspended", effectiveRole: null });
        expect(missing).toEqual({ status: "suspended", effectiveRole: null });
        const limited = ROLE_RANK.indexOf(creatorRole) > ROLE_RANK.indexOf(keyRole);
        expect(live).toEqual(
          limited
            ? { status: "limited", effectiveRole: creatorRole }
            : { status: "active", effectiveRole: keyRole },
        );
      }),
    );
  });
});
