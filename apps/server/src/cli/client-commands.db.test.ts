import { beforeAll, describe, expect, it, vi } from "vitest";
import { createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import { migrateToLatest } from "../infra/db/database.js";
import { createTenant } from "../modules/tenants/create-tenant.js";
import { useEnvTestDatabase } from "../test/cli-env.js";
import { clientCreateCommand } from "./client-commands.js";
import { parseCommandArgs } from "./command.js";

useEnvTestDatabase();

beforeAll(async () => {
  const ctx = createAppContext(loadConfig());
  await migrateToLatest(ctx.db);
  await createTenant(ctx, {
    slug: "clicorp",
    name: "CLI Corp",
    owner: { email: "owner@clicorp.test", name: "Owner", password: "owner password 1" },
  });
  await ctx.close();
});

const run = (argv: string[]) => {
  const { values, positionals } = parseCommandArgs(clientCreateCommand, argv);
  return clientCreateCommand.run(values, positionals);
};

describe("psphub client create", () => {
  it("creates a client with a portal password and prints it as JSON", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const rc = await run([
      "--tenant",
      "clicorp",
      "--name",
      "Jane Doe",
      "--email",
      "Jane@Example.com",
      "--password",
      "portal password 1",
      "--nationality",
      "US",
      "--language",
      "en-US",
      "--group",
      "vip",
      "--phone",
      "+1 555 0100",
    ]);
    expect(rc).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
    log.mockRestore();
    expect(printed).toMatchObject({
      id: expect.stringMatching(/^[a-z0-9]{8}$/),
      email: "jane@example.com",
      nationality: "us",
      language: "en-us",
      group: "vip",
      portalAccess: true,
      disabled: false,
    });
    const ctx = createAppContext(loadConfig());
    try {
      const audit = await ctx.db
        .selectFrom("audit_log")
        .select(["actor_type", "action"])
        .where("target_id", "=", printed.id)
        .execute();
      expect(audit).toEqual([{ actor_type: "system", action: "client.create" }]);
    } finally {
      await ctx.close();
    }
  });

  it("refuses an unknown tenant and a missing email", async () => {
    await expect(run(["--tenant", "nope", "--name", "J", "--email", "j@x.test"])).rejects.toThrow(
      "no tenant with slug nope",
    );
    await expect(run(["--tenant", "clicorp", "--name", "J"])).rejects.toThrow("--email is required");
  });
});
