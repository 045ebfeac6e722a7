import { createClient } from "../modules/clients/create-client.js";
import { type Command, requireString, UsageError } from "./command.js";
import { withContext } from "./server-commands.js";

const d = (description: string) => ({ type: "string" as const, description });
const optional = (v: Record<string, unknown>, name: string): string | undefined =>
  typeof v[name] === "string" && v[name] !== "" ? (v[name] as string) : undefined;

export const clientCreateCommand: Command = {
  name: "client create",
  summary: "create a client in a tenant (a password opens the client portal)",
  usage:
    "client create --tenant acme --name 'Jane Doe' --email jane@example.com [--password '…'] [--group G] [--phone P] [--nationality us] [--language en-us]",
  options: {
    tenant: d("tenant slug"),
    name: d("the client's name"),
    email: d("the client's email (unique per tenant)"),
    password: d("portal password (10+ characters); without it the client cannot log in"),
    group: d("client group (deposit methods can be limited to groups)"),
    phone: d("phone number"),
    nationality: d("ISO 3166 alpha-2 country code, e.g. us"),
    language: d("language tag, e.g. en-us"),
  },
  async run(v) {
    const slug = requireString(v, "tenant");
    const input = {
      name: requireString(v, "name"),
      email: requireString(v, "email"),
      password: optional(v, "password"),
      group: optional(v, "group"),
      phone: optional(v, "phone"),
      nationality: optional(v, "nationality"),
      language: optional(v, "language"),
    };
    const client = await withContext(async (ctx) => {
      const t = await ctx.db.selectFrom("tenants").select("id").where("slug", "=", slug).executeTakeFirst();
      if (!t) throw new UsageError(`no tenant with slug ${slug}`);
      return createClient(ctx, t.id, input, { type: "system", id: null });
    });
    console.log(JSON.stringify(client, null, 2));
    return 0;
  },
};
