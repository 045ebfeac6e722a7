import { newId } from "../../common/ids.js";
import type { Db } from "../../infra/db/database.js";
import type { AuditLogTable } from "../../infra/db/schema.js";
import { redactSecrets } from "./redact.js";

export type AuditActor = { type: AuditLogTable["actor_type"]; id: string | null };

export type AuditEntry = {
  tenantId: string;
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
  ip?: string | null;
};

/**
 * Writes one audit record. Pass the transaction when the change it describes is transactional,
 * so a rolled-back change leaves no record claiming it happened.
 */
export async function recordAudit(db: Db, entry: AuditEntry, now: number): Promise<void> {
  await db
    .insertInto("audit_log")
    .values({
      id: newId(),
      tenant_id: entry.tenantId,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      before: entry.before === undefined ? null : JSON.stringify(redactSecrets(entry.before)),
      after: entry.after === undefined ? null : JSON.stringify(redactSecrets(entry.after)),
      ip: entry.ip ?? null,
      created_at: now,
    })
    .execute();
}

/** The audit actor of an authenticated back-office request (a user or an API key). */
export const auditActorOf = (staff: {
  kind: "user" | "api_key";
  id: string;
}): AuditActor & { type: "user" | "api_key" } => ({
  type: staff.kind,
  id: staff.id,
});
