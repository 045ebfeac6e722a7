import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { COMMANDS, runCli } from "../cli.js";

// Every subcommand of the CLI's table exists, answers --help, and refuses bad flags and
// stray arguments with a clear message and its usage (exit 2), before doing anything.

const TABLE = [
  "serve",
  "migrate",
  "tenant create",
  "user create",
  "client create",
  "demo",
  "sign",
  "verify",
  "callback",
  "webhook listen",
];

let log: MockInstance<typeof console.log>;
let error: MockInstance<typeof console.error>;
beforeEach(() => {
  log = vi.spyOn(console, "log").mockImplementation(() => {});
  error = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());
const out = () => log.mock.calls.map((c) => String(c[0])).join("\n");
const err = () => error.mock.calls.map((c) => String(c[0])).join("\n");

describe("psphub", () => {
  it("has every subcommand of the table, each listed in the overview", async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(expect.arrayContaining(TABLE));
    expect(await runCli(["--help"])).toBe(0);
    for (const name of TABLE) expect(out()).toMatch(new RegExp(`\\n {2}${name} +\\S`));
  });

  it.each(TABLE)("%s --help (and -h) prints its usage and options, exit 0, without running", async (name) => {
    const argv = name.split(" ");
    expect(await runCli([...argv, "--help"])).toBe(0);
    expect(await runCli([...argv, "-h"])).toBe(0);
    const text = out();
    expect(text).toContain(`psphub ${name}: `);
    expect(text).toContain(`usage: psphub ${name}`);
    const command = COMMANDS.find((c) => c.name === name)!;
    for (const option of Object.keys(command.options)) expect(text).toContain(`--${option}`);
    expect(err()).toBe("");
  });

  it.each(TABLE)("%s refuses an unknown flag with its usage, exit 2", async (name) => {
    expect(await runCli([...name.split(" "), "--no-such-flag"])).toBe(2);
    expect(err()).toMatch(new RegExp(`^psphub ${name}: Unknown option '--no-such-flag'`));
    expect(err()).toContain(`usage: psphub ${name}`);
  });

  it.each(TABLE)(
    "%s refuses a stray argument instead of ignoring it (serve 8080 must not start a server)",
    async (name) => {
      expect(await runCli([...name.split(" "), "8080"])).toBe(2);
      expect(err()).toMatch(new RegExp(`^psphub ${name}: unexpected argument "8080"`));
      expect(err()).toContain(`usage: psphub ${name}`);
    },
  );

  it.each(
    TABLE.filter((name) =>
      Object.values(COMMANDS.find((c) => c.name === name)!.options).some((o) => o.type === "string"),
    ),
  )("%s refuses a flag without its value, exit 2", async (name) => {
    const command = COMMANDS.find((c) => c.name === name)!;
    const [flag] = Object.entries(command.options).find(([, o]) => o.type === "string")!;
    expect(await runCli([...name.split(" "), `--${flag}`])).toBe(2);
    expect(err()).toContain(`psphub ${name}: Option '--${flag}`);
  });

  it("names the missing required flag", async () => {
    const argv = ["callback", "--url", "http://127.0.0.1:9/api/psp", "--token", "t", "--order", "o"];
    expect(await runCli([...argv, "--status", "1", "--amount", "1", "--currency", "USD"])).toBe(2);
    expect(err()).toMatch(/^psphub callback: --merchant is required/);
  });

  it("answers an unknown command with the overview (exit 2), and the first word of a two-word one with its choices", async () => {
    expect(await runCli(["frobnicate"])).toBe(2);
    expect(err()).toContain('psphub: unknown command "frobnicate"');
    expect(err()).toContain("commands:");
    error.mockClear();
    expect(await runCli(["tenant"])).toBe(2);
    expect(err()).toContain('psphub tenant: one of "psphub tenant create"');
    expect(await runCli(["client", "--help"])).toBe(0);
    expect(out()).toContain("usage: psphub client create");
  });
});
