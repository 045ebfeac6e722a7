import { randomBytes } from "node:crypto";
import { formatRate, ProtocolError, parseRate } from "@psphub/protocol";
import type { AppContext } from "../../app-context.js";
import { ConflictError, NotFoundError, ValidationError } from "../../common/errors.js";
import { newId } from "../../common/ids.js";
import { parseInput } from "../../common/validation.js";
import type { AdminActor } from "../../http/admin-actor.js";
import { type Db, writeTransaction } from "../../infra/db/database.js";
import { recordAudit } from "../audit/audit-repo.js";
import { checkedAppUrl } from "../psp-integrations/app-url.js";
import {
  type FxSourceRow,
  findRate,
  findSource,
  insertSource,
  listRates,
  listSources,
  type ManualRateRow,
  methodsUsingSource,
  openStaleAlerts,
  pairCounts,
  deleteRate as removeRate,
  updateSource as saveSource,
  upsertRate,
} from "./fx-source-repo.js";
import {
  type CreateSourceInput,
  createSourceInput,
  currencyCode,
  DEFAULT_EXTERNAL_TTL_SECONDS,
  DEFAULT_TIMEOUT_MS,
  type FxSourceView,
  type ManualRateView,
  type RateInput,
  rateInput,
  type UpdateSourceInput,
  updateSourceInput,
} from "./fx-source-schemas.js";

type Ctx = Pick<AppContext, "db" | "clock" | "config" | "secretBox" | "fxRates">;

/** The `key` header value: 32 random bytes, base64url. Shown once, stored only sealed. */
const newSourceKey = (): string => randomBytes(32).toString("base64url");

const sourceView = (
  r: FxSourceRow,
  pairs: number,
  alert: { id: string; openedAt: number } | null,
): FxSourceView => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  url: r.url,
  keyLast4: r.key_last4,
  timeoutMs: Number(r.timeout_ms),
  ttlSeconds: r.ttl_seconds === null ? null : Number(r.ttl_seconds),
  pairs,
  alert,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** What an audit row keeps of a source: never the key, sealed or not. */
const auditSnapshot = (r: FxSourceRow) => ({
  kind: r.kind,
  name: r.name,
  url: r.url,
  keyLast4: r.key_last4,
  timeoutMs: Number(r.timeout_ms),
  ttlSeconds: r.ttl_seconds === null ? null : Number(r.ttl_seconds),
});

const rateView = (r: ManualRateRow): ManualRateView => ({
  from: r.from_currency,
  to: r.to_currency,
  rate: r.rate,
  markupBps: Number(r.markup_bps),
  updatedAt: Number(r.updated_at),
  updatedBy: r.updated_by,
});

async function viewOf(db: Db, tenantId: string, row: FxSourceRow): Promise<FxSourceView> {
  const [pairs, alerts] = await Promise.all([pairCounts(db, tenantId), openStaleAlerts(db, tenantId)]);
  return sourceView(row, pairs.get(row.id) ?? 0, alerts.get(row.id) ?? null);
}

async function mustFind(db: Db, tenantId: string, id: string): Promise<FxSourceRow> {
  const row = await findSource(db, tenantId, id);
  if (!row) throw new NotFoundError("Rate source");
  return row;
}

async function checkedUrl(ctx: Ctx, text: string): Promise<string> {
  const r = await checkedAppUrl(ctx, text);
  if (!r.ok)
    throw new ValidationError("The rate source is invalid", [
      { path: "url", message: r.issue.message.replace(/^APP_URL/, "The URL") },
    ]);
  return r.appUrl;
}

export async function listFxSources(ctx: Pick<Ctx, "db">, tenantId: string): Promise<FxSourceView[]> {
  const [rows, pairs, alerts] = await Promise.all([
    listSources(ctx.db, tenantId),
    pairCounts(ctx.db, tenantId),
    openStaleAlerts(ctx.db, tenantId),
  ]);
  return rows.map((r) => sourceView(r, pairs.get(r.id) ?? 0, alerts.get(r.id) ?? null));
}

export async function createFxSource(
  ctx: Ctx,
  actor: AdminActor,
  input: CreateSourceInput,
): Promise<{ source: FxSourceView; key: string | null }> {
  const data = parseInput(createSourceInput, input);
  const now = ctx.clock.now();
  let key: string | null = null;
  let row: FxSourceRow;
  if (data.kind === "external") {
    const url = await checkedUrl(ctx, data.url);
    key = newSourceKey();
    row = {
      id: newId(),
      tenant_id: actor.tenantId,
      kind: "external",
      name: data.name,
      url,
      key_enc: ctx.secretBox.seal(key),
      key_last4: key.slice(-4),
      timeout_ms: data.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ttl_seconds: data.ttlSeconds ?? DEFAULT_EXTERNAL_TTL_SECONDS,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
  } else {
    row = {
      id: newId(),
      tenant_id: actor.tenantId,
      kind: "manual",
      name: data.name,
      url: null,
      key_enc: null,
      key_last4: null,
      timeout_ms: DEFAULT_TIMEOUT_MS,
      ttl_seconds: data.ttlSeconds ?? null,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    };
  }
  await writeTransaction(ctx.db, async (trx) => {
    await insertSource(trx, row);
    await audit(trx, actor, "fx_source.create", row.id, undefined, auditSnapshot(row), now);
  });
  return { source: sourceView(row, 0, null), key };
}

export async function updateFxSource(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  input: UpdateSourceInput,
): Promise<{ source: FxSourceView }> {
  const data = parseInput(updateSourceInput, input);
  const before = await mustFind(ctx.db, actor.tenantId, id);
  const set: Partial<FxSourceRow> = { name: data.name };
  if (before.kind === "external") {
    if (data.url !== undefined) set.url = await checkedUrl(ctx, data.url);
    if (data.timeoutMs !== undefined) set.timeout_ms = data.timeoutMs;
    if (data.ttlSeconds === null)
      throw new ValidationError("The rate source is invalid", [
        { path: "ttlSeconds", message: "An external source needs a TTL" },
      ]);
    if (data.ttlSeconds !== undefined) set.ttl_seconds = data.ttlSeconds;
  } else if (data.ttlSeconds !== undefined) set.ttl_seconds = data.ttlSeconds;
  const now = ctx.clock.now();
  set.updated_at = now;
  const after: FxSourceRow = { ...before, ...set };
  await writeTransaction(ctx.db, async (trx) => {
    await saveSource(trx, actor.tenantId, id, set);
    await audit(trx, actor, "fx_source.update", id, auditSnapshot(before), auditSnapshot(after), now);
  });
  ctx.fxRates.forgetSource?.(actor.tenantId, id);
  return { source: await viewOf(ctx.db, actor.tenantId, after) };
}

export async function deleteFxSource(ctx: Ctx, actor: AdminActor, id: string): Promise<void> {
  const before = await mustFind(ctx.db, actor.tenantId, id);
  const methods = await methodsUsingSource(ctx.db, actor.tenantId, id);
  if (methods.length > 0)
    throw new ConflictError(
      `The rate source is used by the deposit method${methods.length > 1 ? "s" : ""} ${methods.join(", ")}; change their conversion first`,
      "fx_source_in_use",
      { methods },
    );
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    await saveSource(trx, actor.tenantId, id, { deleted_at: now, updated_at: now });
    await audit(trx, actor, "fx_source.delete", id, auditSnapshot(before), undefined, now);
  });
  ctx.fxRates.forgetSource?.(actor.tenantId, id);
}

/** A new key; the old one stops at once (the lookup forgets the cached source row). */
export async function regenerateFxSourceKey(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
): Promise<{ key: string }> {
  const before = await mustFind(ctx.db, actor.tenantId, id);
  if (before.kind !== "external")
    throw new ConflictError("Only an external rate source has a key", "fx_source_manual");
  const key = newSourceKey();
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    await saveSource(trx, actor.tenantId, id, {
      key_enc: ctx.secretBox.seal(key),
      key_last4: key.slice(-4),
      updated_at: now,
    });
    await audit(
      trx,
      actor,
      "fx_source.regenerate_key",
      id,
      { keyLast4: before.key_last4 },
      { keyLast4: key.slice(-4) },
      now,
    );
  });
  ctx.fxRates.forgetSource?.(actor.tenantId, id);
  return { key };
}

async function mustFindManual(db: Db, tenantId: string, id: string): Promise<FxSourceRow> {
  const row = await mustFind(db, tenantId, id);
  if (row.kind !== "manual") throw new NotFoundError("Rate source");
  return row;
}

export async function listManualRates(ctx: Pick<Ctx, "db">, tenantId: string, id: string) {
  await mustFind(ctx.db, tenantId, id);
  return (await listRates(ctx.db, tenantId, id)).map(rateView);
}

function checkedPair(from: string, to: string): { from: string; to: string } {
  const issues = [];
  if (!currencyCode.safeParse(from).success)
    issues.push({ path: "from", message: "3 to 10 upper-case letters or digits, starting with a letter" });
  if (!currencyCode.safeParse(to).success)
    issues.push({ path: "to", message: "3 to 10 upper-case letters or digits, starting with a letter" });
  if (issues.length === 0 && from === to)
    issues.push({ path: "to", message: "A pair needs two different currencies" });
  if (issues.length > 0) throw new ValidationError("The pair is invalid", issues);
  return { from, to };
}

export async function setManualRate(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  pair: { from: string; to: string },
  input: RateInput,
): Promise<ManualRateView> {
  const { from, to } = checkedPair(pair.from, pair.to);
  const data = parseInput(rateInput, input);
  let rate: string;
  try {
    rate = formatRate(parseRate(data.rate));
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw new ValidationError("The rate is invalid", [{ path: "rate", message: `The rate: ${e.message}` }]);
  }
  await mustFindManual(ctx.db, actor.tenantId, id);
  const now = ctx.clock.now();
  const row: ManualRateRow = {
    source_id: id,
    from_currency: from,
    to_currency: to,
    tenant_id: actor.tenantId,
    rate,
    markup_bps: data.markupBps,
    updated_at: now,
    updated_by: actor.audit.id,
  };
  await writeTransaction(ctx.db, async (trx) => {
    const before = await findRate(trx, actor.tenantId, id, from, to);
    await upsertRate(trx, row);
    await audit(
      trx,
      actor,
      "fx_rate.set",
      id,
      before ? { pair: `${from}/${to}`, rate: before.rate, markupBps: Number(before.markup_bps) } : undefined,
      { pair: `${from}/${to}`, rate, markupBps: data.markupBps },
      now,
    );
  });
  return rateView(row);
}

export async function deleteManualRate(
  ctx: Ctx,
  actor: AdminActor,
  id: string,
  pair: { from: string; to: string },
): Promise<void> {
  const { from, to } = checkedPair(pair.from, pair.to);
  await mustFindManual(ctx.db, actor.tenantId, id);
  const now = ctx.clock.now();
  await writeTransaction(ctx.db, async (trx) => {
    const before = await findRate(trx, actor.tenantId, id, from, to);
    if (!before) throw new NotFoundError("Rate");
    await removeRate(trx, actor.tenantId, id, from, to);
    await audit(
      trx,
      actor,
      "fx_rate.delete",
      id,
      { pair: `${from}/${to}`, rate: before.rate, markupBps: Number(before.markup_bps) },
      undefined,
      now,
    );
  });
}

async function audit(
  db: Db,
  actor: AdminActor,
  action: string,
  targetId: string,
  before: unknown,
  after: unknown,
  now: number,
): Promise<void> {
  await recordAudit(
    db,
    {
      tenantId: actor.tenantId,
      actor: actor.audit,
      action,
      targetType: "fx_source",
      targetId,
      before,
      after,
      ip: actor.ip,
    },
    now,
  );
}
