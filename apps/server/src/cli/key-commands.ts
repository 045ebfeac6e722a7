import { ConfigError } from "../config/config.js";
import { reencryptTokens } from "../modules/psp-integrations/reencrypt-tokens.js";
import type { Command } from "./command.js";
import { withContext } from "./server-commands.js";

export const keysReencryptCommand: Command = {
  name: "keys reencrypt",
  summary: "seal every stored token again under ENCRYPTION_KEY (after a key rotation, see README)",
  usage: "keys reencrypt   (ENCRYPTION_KEY=new ENCRYPTION_KEY_PREVIOUS=old in the environment)",
  options: {},
  async run() {
    const r = await withContext(async (ctx) => {
      if (!ctx.config.encryptionKey)
        throw new ConfigError(
          "psphub keys reencrypt needs ENCRYPTION_KEY (the key to seal with) and, for tokens sealed before, ENCRYPTION_KEY_PREVIOUS",
        );
      return reencryptTokens(ctx);
    });
    console.log(
      `${r.integrations} integration(s) read, resealed ${r.resealed} under ENCRYPTION_KEY, ${r.unreadable.length} unreadable`,
    );
    if (r.unreadable.length === 0) return 0;
    console.error(
      `neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS opens the tokens of integration(s) ${r.unreadable.join(", ")}; they were left as they are (set the key they were sealed with as ENCRYPTION_KEY_PREVIOUS and run again, or rotate their tokens)`,
    );
    return 1;
  },
};
