import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, TEST_PASSWORD, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";
import { createSessionRepo, type SessionRow } from "./session-repo.js";

/**
 * findLive on the database of this vitest project. On PostgreSQL the lookups that arrive
 * together are one query: each must still get its own session, checked against its own `now`.
 */
let t: TestApp;
let tenantId: string;

beforeAll(async () => {
  t = await createTestApp();
  ({ tenantId } = await createTenant(t.ctx, {
    slug: "sessions",
    name: "Sessions Ltd",
    owner: { email: "owner@sessions.test", name: "Owner", password: TEST_PASSWORD },
  }));
});
afterAll(async () => t?.close());

const NOW = 1_800_000_000_000;

function session(expiresAt: number): SessionRow {
  return {
    id_hash: randomBytes(32).toString("hex"),
    kind: "client",
    subject_id: `c${randomBytes(4).toString("hex")}`,
    tenant_id: tenantId,
    csrf_token: randomBytes(16).toString("hex"),
    expires_at: expiresAt,
    created_at: NOW - 1_000,
  };
}

/** A session as the lookup answers it: with its tenant's suspension (none here). */
const asFound = (s: SessionRow) => ({ ...s, tenant_suspended_at: null });

describe("sessionReader.findLive", () => {
  it("answers each lookup of a batch with its own live session, or nothing", async () => {
    const repo = createSessionRepo(t.ctx.db);
    const live = session(NOW + 60_000);
    const other = session(NOW + 120_000);
    const expired = session(NOW - 1);
    const endsNow = session(NOW);
    for (const s of [live, other, expired, endsNow]) await repo.insert(s);
    const lookups: [string, number][] = [
      [live.id_hash, NOW],
      [other.id_hash, NOW],
      [expired.id_hash, NOW],
      [endsNow.id_hash, NOW], // expires_at must be later than now
      ["no-such-session", NOW],
      [live.id_hash, NOW], // the same session twice in one batch
      [other.id_hash, NOW + 120_000], // its own now: expired by then
      [endsNow.id_hash, NOW - 1], // its own now: still live then
    ];
    const found = await Promise.all(lookups.map(([h, now]) => t.ctx.sessionReader.findLive(h, now)));
    expect(found).toEqual([
      asFound(live),
      asFound(other),
      undefined,
      undefined,
      undefined,
      asFound(live),
      undefined,
      asFound(endsNow),
    ]);
    // And one at a time, the same answers.
    for (const [i, [h, now]] of lookups.entries())
      expect(await t.ctx.sessionReader.findLive(h, now)).toEqual(found[i]);
  });

  it("never answers a deleted session", async () => {
    const repo = createSessionRepo(t.ctx.db);
    const s = session(NOW + 60_000);
    await repo.insert(s);
    expect(await t.ctx.sessionReader.findLive(s.id_hash, NOW)).toEqual(asFound(s));
    await repo.delete(s.id_hash);
    expect(
      await Promise.all([
        t.ctx.sessionReader.findLive(s.id_hash, NOW),
        t.ctx.sessionReader.findLive(s.id_hash, NOW),
      ]),
    ).toEqual([undefined, undefined]);
  });

  it("carries the tenant's suspension, read in the same lookup", async () => {
    const repo = createSessionRepo(t.ctx.db);
    const s = session(NOW + 60_000);
    await repo.insert(s);
    await t.ctx.db
      .updateTable("tenants")
      .set({ suspended_at: NOW - 5 })
      .where("id", "=", tenantId)
      .execute();
    try {
      expect(await t.ctx.sessionReader.findLive(s.id_hash, NOW)).toEqual({
        ...s,
        tenant_suspended_at: NOW - 5,
      });
    } finally {
      await t.ctx.db.updateTable("tenants").set({ suspended_at: null }).where("id", "=", tenantId).execute();
    }
  });
});
