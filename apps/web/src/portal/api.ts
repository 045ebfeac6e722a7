import { createApi } from "../lib/api.js";

let onExpire: (message?: string) => void = () => {};

/**
 * The portal's API client; a 401 anywhere ends the session in the UI, and so does a suspended
 * company (its login page then says the service is unavailable, in the client's language).
 */
// The UI says it in its own words (i18n), whatever the server's English message was.
export const api = createApi({
  onUnauthenticated: (message, code) => onExpire(code === "tenant_suspended" ? message : undefined),
  clientFacing: true,
});
export const bindExpire = (fn: (message?: string) => void) => {
  onExpire = fn;
};
