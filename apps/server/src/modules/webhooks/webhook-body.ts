import type { WebhookEventsTable } from "../../infra/db/schema.js";

/**
 * The exact body sent for an event: `{type, timestamp, data}` rendered from the stored row, so
 * every attempt and replay sends the same bytes. The order's sequence number lives in its own
 * column (it is taken in SQL as the event is written, outbox-repo.ts) and fills the
 * `sequence` placeholder the stored data keeps in place.
 */
export function webhookBody(e: Pick<WebhookEventsTable, "type" | "data" | "seq" | "created_at">): string {
  const data = JSON.parse(e.data) as Record<string, unknown>;
  if ("sequence" in data) data.sequence = e.seq === null ? null : Number(e.seq);
  return JSON.stringify({ type: e.type, timestamp: new Date(Number(e.created_at)).toISOString(), data });
}
