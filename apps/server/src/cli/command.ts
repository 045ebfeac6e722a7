import { type ParseArgsConfig, parseArgs } from "node:util";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** One CLI subcommand. `name` may have two words ("tenant create"). */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export class UsageError extends Error {}

/**
 * Parses argv for a command, turning unknown or malformed flags into a UsageError. No command
 * takes positional arguments: a stray word (`psphub serve 8080`, a flag missing its `--`) is an
 * error rather than silently ignored.
 */
export function parseCommandArgs(cmd: Command, argv: string[]) {
  const parse = () => {
    try {
      return parseArgs({
        args: argv,
        options: { ...cmd.options, help: { type: "boolean", short: "h" } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const parsed = parse();
  if (parsed.positionals.length > 0 && parsed.values.help !== true) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(parsed.positionals[0])} (options are --name value; see --help)`,
    );
  }
  return parsed;
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

export function helpText(cmd: Command): string {
  const lines = [`psphub ${cmd.name}: ${cmd.summary}`, "", `usage: psphub ${cmd.usage}`];
  const opts = Object.entries(cmd.options);
  if (opts.length) {
    lines.push("", "options:");
    for (const [name, o] of opts) {
      const flag = `--${name}${o.type === "string" ? " <value>" : ""}`;
      lines.push(`  ${flag.padEnd(26)}${(o as { description?: string }).description ?? ""}`);
    }
  }
  return lines.join("\n");
}
