import { createApi } from "../lib/api.js";

let onExpire: (message?: string) => void = () => {};

/** The portal's API client; a 401 anywhere ends the session in the UI. */
export const api = createApi({ onUnauthenticated: (m) => onExpire(m) });
export const bindExpire = (fn: (message?: string) => void) => {
  onExpire = fn;
};
