import type { en } from "./en.js";

export type MessageKey = keyof typeof en;
/** A dictionary: every English key, nothing else (`satisfies Messages` checks both). */
export type Messages = Record<MessageKey, string>;
