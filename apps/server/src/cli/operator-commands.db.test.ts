import { afterEach, describe, expect, it, vi } from "vitest";
import { createAppContext } from "../app-context.js";
import { loadConfig } from "../config/config.js";
import { verifyPassword } from "../infra/crypto/hashing.js";
import { useEnvTestDatabase } from "../test/cli-env.js";
import { parseCommandArgs } from "./command.js";
import { OPERATOR_PASSWORD_ENV, operatorCreateCommand } from "./operator-commands.js";

useEnvTestDatabase();

const run = (argv: string[]) => {
  const { values, positionals } = parseCommandArgs(operatorCreateCommand, argv);
  return operatorCreateCommand.run(values, positionals);
};

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("psphub operator create", () => {
  it("creates an operator with the password from the environment (never echoed) and prints it as JSON", async () => {
    vi.stubEnv(OPERATOR_PASSWORD_ENV, "operator password 1");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    expect(await run(["--email", "Ops@Example.com", "--name", "Platform Ops"])).toBe(0);
    const printed = String(log.mock.calls[0]?.[0]);
    expect(JSON.parse(printed)).toEqual({
      id: expect.any(String),
      email: "ops@example.com",
      name: "Platform Ops",
    });
    expect(printed).not.toContain("operator password 1");
    const ctx = createAppContext(loadConfig());
    try {
      const row = await ctx.db
        .selectFrom("platform_operators")
        .select(["password_hash", "disabled"])
        .where("email", "=", "ops@example.com")
        .executeTakeFirstOrThrow();
      expect(row.disabled).toBe(0);
      expect(await verifyPassword("operator password 1", row.password_hash)).toBe(true);
    } finally {
      await ctx.close();
    }
  });

  it("takes --password too, and refuses a missing password, a short one and a second operator with the e-mail", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    vi.stubEnv(OPERATOR_PASSWORD_ENV, "");
    await expect(run(["--email", "b@example.com", "--name", "B"])).rejects.toThrow(
      `--password or ${OPERATOR_PASSWORD_ENV} is required`,
    );
    await expect(run(["--email", "b@example.com", "--name", "B", "--password", "short"])).rejects.toThrow(
      "The input is invalid",
    );
    expect(await run(["--email", "b@example.com", "--name", "B", "--password", "a long password"])).toBe(0);
    await expect(
      run(["--email", "B@example.com", "--name", "B", "--password", "a long password"]),
    ).rejects.toThrow("An operator with that email exists");
  });
});
