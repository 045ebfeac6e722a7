import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Staff e-mail is unique per tenant, no longer across tenants: the global
 * unique index let one tenant learn, from a 409, that an address was staff at another tenant,
 * and reserve it. Now (tenant_id, lower(email)) is unique, and lower(email) is indexed for the
 * login, which may find one address at several tenants. Existing rows are kept as they are; a
 * tenant that already holds two addresses differing only in case stops the migration with a
 * message, since picking one would lose an account.
 *
 * Also: an API key's created_by is the user whose role bounds it. Keys issued
 * with another key stored that key's id; they now name the user behind it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations must not depend on today's table types
export async function up(db: Kysely<any>): Promise<void> {
  const clashes = await sql<{ tenant_id: string; email: string }>`
    select tenant_id, lower(email) as email from users
    group by tenant_id, lower(email) having count(*) > 1`.execute(db);
  if (clashes.rows.length > 0) {
    const list = clashes.rows.map((r) => `${r.email} (tenant ${r.tenant_id})`).join(", ");
    throw new Error(
      `0006-staff-email-per-tenant: these staff e-mails exist twice in one tenant, differing only in case: ${list}. Rename or remove one of each, then migrate again.`,
    );
  }

  if (isPostgres(db)) {
    for (const name of await pgEmailUniqueConstraints(db)) {
      await sql`alter table users drop constraint ${sql.id(name)}`.execute(db);
    }
  } else {
    await rebuildSqliteUsers(db, '"email" text not null unique', '"email" text not null');
  }
  await sql`create unique index users_tenant_email on users (tenant_id, lower(email))`.execute(db);
  await sql`create index users_email_lower on users (lower(email))`.execute(db);

  // Key chains are short (a key issued with a key issued with a key...); each pass resolves one link.
  for (let pass = 0; pass < 50; pass++) {
    const r = await sql`
      update api_keys set created_by =
        (select k2.created_by from api_keys k2 where k2.id = api_keys.created_by)
      where created_by in (select id from api_keys)`.execute(db);
    if (!r.numAffectedRows) break;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_email_lower`.execute(db);
  await sql`drop index if exists users_tenant_email`.execute(db);
  if (isPostgres(db)) {
    await sql`alter table users add constraint users_email_key unique (email)`.execute(db);
  } else {
    await rebuildSqliteUsers(db, '"email" text not null', '"email" text not null unique');
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
const isPostgres = (db: Kysely<any>) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Names of the unique constraints on users(email) alone (0001 let PostgreSQL name it). */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function pgEmailUniqueConstraints(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select c.conname as name from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    where c.conrelid = 'users'::regclass and c.contype = 'u'
      and array_length(c.conkey, 1) = 1 and a.attname = 'email'`.execute(db);
  return r.rows.map((x) => x.name);
}

/**
 * SQLite cannot drop a column's UNIQUE constraint: the table is rebuilt from its own definition
 * with one clause changed (so columns added by later migrations come along), its rows copied,
 * and its indexes and triggers created again.
 */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function rebuildSqliteUsers(db: Kysely<any>, from: string, to: string): Promise<void> {
  const table = await sql<{ sql: string }>`
    select sql from sqlite_master where type = 'table' and name = 'users'`.execute(db);
  const ddl = table.rows[0]?.sql ?? "";
  if (!ddl.includes(from))
    throw new Error(`0006-staff-email-per-tenant: users has no ${from} clause: ${ddl}`);
  const extras = await sql<{ sql: string }>`
    select sql from sqlite_master
    where tbl_name = 'users' and type in ('index', 'trigger') and sql is not null
      and name not in ('users_tenant_email', 'users_email_lower')`.execute(db);
  const rebuilt = ddl.replace(from, to).replace(/^CREATE TABLE "users"/i, 'CREATE TABLE "users_rebuilt"');
  await sql.raw(rebuilt).execute(db);
  await sql`insert into users_rebuilt select * from users`.execute(db);
  await sql`drop table users`.execute(db);
  await sql`alter table users_rebuilt rename to users`.execute(db);
  for (const x of extras.rows) await sql.raw(x.sql).execute(db);
}
