import type { Selectable } from "kysely";
import { newId } from "../../common/ids.js";
import { type Db, decodeJson, encodeJson } from "../../infra/db/database.js";
import type {
  ClientsTable,
  DepositEventsTable,
  DepositMethodsTable,
  DepositsTable,
  PspIntegrationsTable,
} from "../../infra/db/schema.js";
import { insertRows, tableColumns } from "../../infra/db/sql-text.js";
import type { BatchWrite } from "../../infra/db/write-batch.js";
import { toDepositMethod } from "../deposit-methods/method-model.js";
import { type Integration, toIntegration } from "../psp-integrations/integration-model.js";
import type { DepositEvent } from "./deposit-events.js";
import type { MethodContext } from "./deposit-validation.js";

/** Storage of deposits and their timelines. Every query is scoped by tenant_id. */

export type DepositRow = Selectable<DepositsTable>;

export async function findDepositById(db: Db, tenantId: string, id: string): Promise<DepositRow | undefined> {
  return db
    .selectFrom("deposits")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .executeTakeFirst();
}

/** By order number; with `clientId`, only that client's order (the portal's view). */
export async function findDepositByOrderNo(
  db: Db,
  tenantId: string,
  orderNo: string,
  clientId?: string,
): Promise<DepositRow | undefined> {
  let q = db
    .selectFrom("deposits")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("order_no", "=", orderNo);
  if (clientId !== undefined) q = q.where("client_id", "=", clientId);
  return q.executeTakeFirst();
}

export async function findDepositByIdempotencyKey(
  db: Db,
  tenantId: string,
  clientId: string,
  key: string,
): Promise<DepositRow | undefined> {
  return db
    .selectFrom("deposits")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("client_id", "=", clientId)
    .where("idempotency_key", "=", key)
    .executeTakeFirst();
}

/**
 * A timeline entry's id: time-ordered ({@link newId}), so that events written in the same
 * millisecond (or under a fixed test clock) still read back in the order they happened; the
 * timeline orders by (created_at, id).
 */
export const newEventId = newId;

/** A timeline entry to write: `id` (from {@link newEventId}) and `now` may be taken earlier. */
export type NewDepositEvent = {
  tenantId: string;
  depositId: string;
  event: DepositEvent;
  now: number;
  id?: string;
};

/**
 * Appends one typed event to a deposit's timeline. Pass the transaction of the change it records.
 * `id` (from {@link newEventId}) and `now` may be taken earlier, to place the event where it
 * happened rather than where it was written.
 */
export async function insertDepositEvent(db: Db, e: NewDepositEvent): Promise<string> {
  const [id] = await insertEventRows(db, [e]);
  return id as string;
}

/**
 * Appends typed events (of one deposit or several) in one statement, in the given order: each
 * takes its id from {@link newEventId} in turn unless given one, so they read back in this
 * order. Pass the transaction of the change they record.
 */
export async function insertEventRows(db: Db, events: readonly NewDepositEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map(eventRow);
  await db.insertInto("deposit_events").values(rows).execute();
  return rows.map((r) => r.id);
}

/** The same rows as {@link insertEventRows}, as hand-written SQL for a batch of writes (write-batch.ts). */
export function eventRowsWrite(db: Db, events: readonly NewDepositEvent[]): BatchWrite {
  return insertRows(db, DEPOSIT_EVENTS, events.map(eventRow));
}

export const DEPOSIT_EVENTS = tableColumns<DepositEventsTable>("deposit_events", {
  id: "text",
  tenant_id: "text",
  deposit_id: "text",
  kind: "text",
  data: "text",
  created_at: "bigint",
});

/** A timeline entry as its row: its id taken now unless it has one. */
export function eventRow(e: NewDepositEvent): DepositEventsTable {
  return {
    id: e.id ?? newEventId(),
    tenant_id: e.tenantId,
    deposit_id: e.depositId,
    kind: e.event.kind,
    data: encodeJson(e.event.data),
    created_at: e.now,
  };
}

/** A timeline row: as written, so typed by its writers' DepositEvent. */
export type StoredDepositEvent = DepositEvent & { id: string; createdAt: number };

/** A deposit's timeline in order (insertion order breaks ties of equal timestamps). */
export async function listDepositEvents(
  db: Db,
  tenantId: string,
  depositId: string,
): Promise<StoredDepositEvent[]> {
  const rows = await db
    .selectFrom("deposit_events")
    .select(["id", "kind", "data", "created_at"])
    .where("tenant_id", "=", tenantId)
    .where("deposit_id", "=", depositId)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
  return rows.map(
    (r) =>
      ({
        id: r.id,
        kind: r.kind,
        data: decodeJson<Record<string, unknown>>(r.data, {}),
        createdAt: r.created_at,
      }) as StoredDepositEvent,
  );
}

export type MethodWithIntegration = Omit<MethodContext, "integration"> & {
  integration: Integration;
  integrationRow: Selectable<PspIntegrationsTable>;
  methodRow: Selectable<DepositMethodsTable>;
};

/** The tenant's live (not soft-deleted) methods with their integrations, in display order. */
export async function listMethodsWithIntegrations(
  db: Db,
  tenantId: string,
): Promise<MethodWithIntegration[]> {
  const methods = await db
    .selectFrom("deposit_methods")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("deleted_at", "is", null)
    .orderBy("sort_order", "asc")
    .orderBy("name", "asc")
    .orderBy("id", "asc")
    .execute();
  if (methods.length === 0) return [];
  const integrations = await db
    .selectFrom("psp_integrations")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where(
      "id",
      "in",
      methods.map((m) => m.integration_id),
    )
    .execute();
  const byId = new Map(integrations.map((i) => [i.id, i]));
  const out: MethodWithIntegration[] = [];
  for (const methodRow of methods) {
    const integrationRow = byId.get(methodRow.integration_id);
    if (!integrationRow) continue;
    out.push({
      method: toDepositMethod(methodRow),
      deletedAt: methodRow.deleted_at,
      integration: toIntegration(integrationRow),
      integrationRow,
      methodRow,
    });
  }
  return out;
}

export async function findClient(
  db: Db,
  tenantId: string,
  clientId: string,
): Promise<Selectable<ClientsTable> | undefined> {
  return db
    .selectFrom("clients")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("id", "=", clientId)
    .executeTakeFirst();
}
