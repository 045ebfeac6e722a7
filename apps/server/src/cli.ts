import { certifyCommand } from "./cli/certify-command.js";
import { clientCreateCommand } from "./cli/client-commands.js";
import { type Command, helpText, parseCommandArgs, UsageError } from "./cli/command.js";
import { demoCommand } from "./cli/demo-command.js";
import { doctorCommand } from "./cli/doctor-command.js";
import { keysReencryptCommand } from "./cli/key-commands.js";
import { operatorCreateCommand } from "./cli/operator-commands.js";
import { callbackCommand, signCommand, statusCommand, verifyCommand } from "./cli/protocol-commands.js";
import {
  migrateCommand,
  serveCommand,
  tenantCreateCommand,
  userCreateCommand,
} from "./cli/server-commands.js";
import { webhookListenCommand } from "./cli/webhook-commands.js";
import { AppError } from "./common/errors.js";
import { ConfigError } from "./config/config.js";

/** Every subcommand of `psphub`. */
export const COMMANDS: Command[] = [
  serveCommand,
  migrateCommand,
  doctorCommand,
  keysReencryptCommand,
  tenantCreateCommand,
  userCreateCommand,
  clientCreateCommand,
  operatorCreateCommand,
  demoCommand,
  signCommand,
  verifyCommand,
  callbackCommand,
  statusCommand,
  certifyCommand,
  webhookListenCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "psphub: the payments side of a multi-tenant broker CRM",
    "",
    "usage: psphub <command> [options]   (psphub <command> --help for its options)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join("\n");
}

export async function runCli(argv: string[]): Promise<number> {
  const match = COMMANDS.filter((c) => c.name.split(" ").every((w, i) => argv[i] === w)).sort(
    (a, b) => b.name.length - a.name.length,
  )[0];
  if (!match) {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      console.log(overview());
      return 0;
    }
    // `psphub tenant` (or `psphub tenant --help`): name the two-word commands it starts.
    const family = COMMANDS.filter((c) => c.name.includes(" ") && c.name.split(" ")[0] === argv[0]);
    if (family.length > 0) {
      const wantsHelp = argv[1] === "--help" || argv[1] === "-h";
      const text = `psphub ${argv[0]}: one of ${family.map((c) => `"psphub ${c.name}"`).join(", ")}\n\n${family.map(helpText).join("\n\n")}`;
      (wantsHelp ? console.log : console.error)(text);
      return wantsHelp ? 0 : 2;
    }
    console.error(`psphub: unknown command "${argv.slice(0, 2).join(" ")}"\n\n${overview()}`);
    return 2;
  }
  const rest = argv.slice(match.name.split(" ").length);
  try {
    const { values, positionals } = parseCommandArgs(match, rest);
    if (values.help) {
      console.log(helpText(match));
      return 0;
    }
    return await match.run(values, positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`psphub ${match.name}: ${err.message}\n\n${helpText(match)}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof AppError) {
      const issues = err.details?.issues?.map((i) => `\n  ${i.path}: ${i.message}`).join("") ?? "";
      console.error(`psphub ${match.name}: ${err.message}${issues}`);
      return 1;
    }
    throw err;
  }
}
