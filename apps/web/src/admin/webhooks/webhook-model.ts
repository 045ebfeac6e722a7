import type { WebhookEndpointInput } from "../types.js";

/** Pure helpers of the webhook pages: what the forms hold and how figures read. */

export type EndpointFormValues = {
  url: string;
  description: string;
  /** Every event type (the server's `*`), or only `types`. */
  allEvents: boolean;
  types: string[];
};

export const emptyEndpointValues = (): EndpointFormValues => ({
  url: "",
  description: "",
  allEvents: true,
  types: [],
});

export const endpointValuesOf = (e: {
  url: string;
  description: string;
  eventTypes: string[];
}): EndpointFormValues => ({
  url: e.url,
  description: e.description,
  allEvents: e.eventTypes.includes("*"),
  types: e.eventTypes.filter((t) => t !== "*"),
});

/** The API body; the types come from the server's own list (GET /event-types). */
export const endpointBody = (v: EndpointFormValues): WebhookEndpointInput => ({
  url: v.url.trim(),
  description: v.description.trim(),
  eventTypes: (v.allEvents ? ["*"] : v.types) as WebhookEndpointInput["eventTypes"],
});

/** Field errors as message keys, before the server's own check (https, the SSRF guard). */
export function endpointErrors(v: EndpointFormValues): Partial<Record<keyof EndpointFormValues, string>> {
  const errors: Partial<Record<keyof EndpointFormValues, string>> = {};
  const url = v.url.trim();
  if (!url) errors.url = "webhooks.form.urlRequired";
  else if (!/^https?:\/\/[^\s/]+/i.test(url)) errors.url = "webhooks.form.urlInvalid";
  if (!v.allEvents && v.types.length === 0) errors.types = "webhooks.form.typesRequired";
  return errors;
}

/** "99.5 %", or null when nothing was attempted (the page shows a dash). */
export function successRateText(rate: number | null): string | null {
  if (rate === null) return null;
  const pct = Math.floor(rate * 1000) / 10;
  return `${pct % 1 === 0 ? pct.toFixed(0) : pct.toFixed(1)} %`;
}

/** A replay task's progress in percent, 0–100. */
export function replayPercent(r: { total: number; done: number; state: string }): number {
  if (r.state === "done" || r.total === 0) return 100;
  return Math.min(100, Math.floor((r.done / r.total) * 100));
}

/** `datetime-local` text (local time) ⇄ epoch ms, for the replay range. */
export function localInputOf(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function msOfLocalInput(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(text)) return null;
  const ms = new Date(text).getTime();
  return Number.isNaN(ms) ? null : ms;
}
