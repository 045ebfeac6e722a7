import type { ClientsTable } from "../../infra/db/schema.js";

/** A client as the back office sees it. Never carries the password hash. */
export interface Client {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  nationality: string | null;
  language: string | null;
  group: string | null;
  /** Whether the client has a portal password (and so can log in to the portal). */
  portalAccess: boolean;
  createdAt: number;
}

export function toClient(row: ClientsTable): Client {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    phone: row.phone,
    nationality: row.nationality,
    language: row.language,
    group: row.client_group,
    portalAccess: row.password_hash !== null,
    createdAt: row.created_at,
  };
}

/** The audit view of a client: what an admin may see changed, never the password. */
export function auditView(c: Client): Record<string, unknown> {
  return {
    name: c.name,
    email: c.email,
    phone: c.phone,
    nationality: c.nationality,
    language: c.language,
    group: c.group,
    portalAccess: c.portalAccess,
  };
}
