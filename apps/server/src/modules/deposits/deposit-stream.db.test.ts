import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../app.js";
import { createAppContext } from "../../app-context.js";
import { fixedClock } from "../../common/clock.js";
import { insertDeposit } from "../../test/callback-client.js";
import { insertPaymentSetup, type PaymentFixture } from "../../test/payment-fixtures.js";
import { createTestApp, loginClient, type Session, type TestApp } from "../../test/test-app.js";
import { createTenant } from "../tenants/create-tenant.js";

// a portal session holds at most PORTAL_STREAMS_PER_SESSION live status
// streams, and its streams end when the session does (logout, expiry, deleted), in this
// process or another one (the session is re-read from the database on every tick).

const CAP = 3;
const TTL_MINUTES = 60;
const clock = fixedClock(Date.UTC(2026, 0, 1, 12, 0, 0));

let t: TestApp;
let base: string;
let slug: string;
let fx: PaymentFixture;

beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: { PORTAL_STREAMS_PER_SESSION: String(CAP), SESSION_TTL_MINUTES: String(TTL_MINUTES) },
  });
  slug = "streams";
  const { tenantId } = await createTenant(t.ctx, {
    slug,
    name: "Streams",
    owner: { email: "owner@streams.test", name: "Owner", password: "correct horse battery" },
  });
  fx = await insertPaymentSetup(t.ctx, tenantId);
  base = await t.app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => t?.close());

type Stream = { status: number; next(): Promise<string | null>; rest(): Promise<string>; abort(): void };

/** Opens a deposit's event stream over real HTTP and returns once the answer's head arrived. */
async function openStream(session: Session, orderNo: string, server = base): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(`${server}/api/portal/deposits/${orderNo}/events`, {
    headers: { cookie: session.cookie },
    signal: ac.signal,
  });
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  const next = async () => {
    const chunk = await reader?.read();
    return !chunk || chunk.done ? null : decoder.decode(chunk.value);
  };
  return {
    status: res.status,
    next,
    async rest() {
      let text = "";
      for (let c = await next(); c !== null; c = await next()) text += c;
      return text;
    },
    abort: () => ac.abort(),
  };
}

/** Reads until the first `event: status` arrived: the stream is open and counted. */
async function untilStatus(s: Stream): Promise<void> {
  let text = "";
  while (!text.includes("event: status")) {
    const c = await s.next();
    if (c === null) throw new Error(`stream ended early: ${text}`);
    text += c;
  }
}

const lastEvent = (text: string) => text.trim().split("\n\n").at(-1);

describe("live status streams of a portal session", () => {
  it("refuses a stream over the cap with 429; another session is not affected, and a closed stream frees its place", async () => {
    const session = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
    const dep = await insertDeposit(t.ctx, fx);
    const open: Stream[] = [];
    for (let i = 0; i < CAP; i++) {
      const s = await openStream(session, dep.orderNo);
      expect(s.status).toBe(200);
      await untilStatus(s);
      open.push(s);
    }
    const over = await openStream(session, dep.orderNo);
    expect(over.status).toBe(429);
    expect(JSON.parse(await over.rest())).toMatchObject({ error: { code: "rate_limited" } });

    const other = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
    const theirs = await openStream(other, dep.orderNo);
    expect(theirs.status).toBe(200);
    await untilStatus(theirs);
    theirs.abort();

    open.pop()?.abort();
    await vi.waitFor(
      async () => {
        const again = await openStream(session, dep.orderNo);
        if (again.status === 200) again.abort();
        expect(again.status).toBe(200);
      },
      { timeout: 10_000, interval: 200 },
    );
    for (const s of open) s.abort();
  });

  it("ends the session's open stream at logout", { timeout: 15_000 }, async () => {
    const session = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
    const dep = await insertDeposit(t.ctx, fx);
    const s = await openStream(session, dep.orderNo);
    await untilStatus(s);
    const out = await session.post("/api/portal/auth/logout");
    expect(out.statusCode).toBe(204);
    // The stream ends by itself, with a last event saying why.
    const rest = await s.rest();
    expect(lastEvent(rest)).toBe('event: end\ndata: {"reason":"session_ended"}');
  });

  it("ends a stream when its session expires", { timeout: 15_000 }, async () => {
    const session = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
    const dep = await insertDeposit(t.ctx, fx, { expires_at: clock.now() + 24 * 3_600_000 });
    const s = await openStream(session, dep.orderNo);
    await untilStatus(s);
    clock.advance(TTL_MINUTES * 60_000 + 1);
    const rest = await s.rest();
    expect(lastEvent(rest)).toBe('event: end\ndata: {"reason":"session_ended"}');
  });

  it("ends a stream served by another process when the session is logged out in this one", {
    timeout: 15_000,
  }, async () => {
    // A second server process on the same database (its own app and stream registry).
    const ctx2 = createAppContext(t.ctx.config, { clock, logger: t.ctx.logger });
    const app2 = await buildApp(ctx2);
    try {
      const base2 = await app2.listen({ port: 0, host: "127.0.0.1" });
      const session = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
      const dep = await insertDeposit(t.ctx, fx, { expires_at: clock.now() + 24 * 3_600_000 });
      const s = await openStream(session, dep.orderNo, base2);
      expect(s.status).toBe(200);
      await untilStatus(s);
      expect((await session.post("/api/portal/auth/logout")).statusCode).toBe(204);
      expect(lastEvent(await s.rest())).toBe('event: end\ndata: {"reason":"session_ended"}');
    } finally {
      await app2.close();
      await ctx2.close();
    }
  });

  it("ends a stream when the session is deleted elsewhere (another process, a password change)", {
    timeout: 15_000,
  }, async () => {
    const session = await loginClient(t.app, slug, fx.clientEmail, fx.clientPassword);
    const dep = await insertDeposit(t.ctx, fx, { expires_at: clock.now() + 24 * 3_600_000 });
    const s = await openStream(session, dep.orderNo);
    await untilStatus(s);
    await t.ctx.db.deleteFrom("sessions").where("subject_id", "=", fx.clientId).execute();
    const rest = await s.rest();
    expect(lastEvent(rest)).toBe('event: end\ndata: {"reason":"session_ended"}');
  });
});
