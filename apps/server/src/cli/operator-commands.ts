import { createOperator } from "../modules/platform/operator-auth.js";
import { type Command, requireString, UsageError } from "./command.js";
import { withContext } from "./server-commands.js";

const d = (description: string) => ({ type: "string" as const, description });

/** Read when --password is not given, so the password need not appear in the shell's history. */
export const OPERATOR_PASSWORD_ENV = "PSPHUB_OPERATOR_PASSWORD";

export const operatorCreateCommand: Command = {
  name: "operator create",
  summary: "create a platform operator (the console above tenants, /operator/)",
  usage: `operator create --email ops@example.com --name 'Ops' [--password '…' | ${OPERATOR_PASSWORD_ENV}=…]`,
  options: {
    email: d("the operator's email (their login)"),
    name: d("display name"),
    password: d(`password (10+ characters); default: the ${OPERATOR_PASSWORD_ENV} environment variable`),
  },
  async run(v) {
    const password =
      typeof v.password === "string" && v.password !== "" ? v.password : process.env[OPERATOR_PASSWORD_ENV];
    if (!password) throw new UsageError(`--password or ${OPERATOR_PASSWORD_ENV} is required`);
    const input = { email: requireString(v, "email"), name: requireString(v, "name"), password };
    const operator = await withContext((ctx) => createOperator(ctx, input));
    console.log(JSON.stringify(operator, null, 2));
    return 0;
  },
};
