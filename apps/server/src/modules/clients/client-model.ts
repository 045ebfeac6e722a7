import { randomInt } from "node:crypto";
import { toBool } from "../../infra/db/database.js";
import type { ClientsTable } from "../../infra/db/schema.js";

/** A client as the back office sees it. Never carries the password hash. */
export interface Client {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  /**
   * ISO 3166-1 alpha-2, lower case. Rows written before codes were checked may hold a code
   * that is no country (`sp`): it is shown as stored, and an edit must replace or clear it.
   */
  nationality: string | null;
  language: string | null;
  group: string | null;
  /** Whether the client has a portal password (and so can log in to the portal unless disabled). */
  portalAccess: boolean;
  /** A disabled client cannot log in to the portal; its wallets and deposits stay. */
  disabled: boolean;
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
    disabled: toBool(row.disabled),
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
    disabled: c.disabled,
  };
}

// No 0/o, 1/l/i: the password is read out or typed from a screen.
const PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/**
 * A generated portal password: 5 groups of 4 characters from 31 (about 99 bits), dashes
 * between groups so that it can be read out to the client.
 */
export function generatePortalPassword(pick: (n: number) => number = randomInt): string {
  const groups: string[] = [];
  for (let g = 0; g < 5; g++) {
    let s = "";
    for (let i = 0; i < 4; i++) s += PASSWORD_ALPHABET[pick(PASSWORD_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join("-");
}
