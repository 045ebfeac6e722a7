import { createApi } from "../lib/api.js";

let onExpire: (message?: string) => void = () => {};

/** The console's API client; a 401 anywhere ends the operator's session in the UI. */
export const api = createApi({ onUnauthenticated: () => onExpire() });
export const bindExpire = (fn: (message?: string) => void) => {
  onExpire = fn;
};
