import { api } from "./api.js";
import type {
  WebhookDeliveryFilter,
  WebhookEndpointInput,
  WebhookEndpointUpdate,
  WebhookReplayInput,
} from "./types.js";

/** The webhook calls of the back office, through the one typed API client. */
const at = (id: string) => ({ params: { path: { id } } });
const atEvent = (id: string, eventId: string) => ({ params: { path: { id, eventId } } });

export const webhooksApi = {
  eventTypes: async () => (await api.GET("/api/admin/webhooks/event-types")).items,
  list: async () => (await api.GET("/api/admin/webhooks/endpoints")).items,
  get: (id: string) => api.GET("/api/admin/webhooks/endpoints/{id}", at(id)),
  create: (body: WebhookEndpointInput) => api.POST("/api/admin/webhooks/endpoints", { body }),
  update: (id: string, body: WebhookEndpointUpdate) =>
    api.PUT("/api/admin/webhooks/endpoints/{id}", { ...at(id), body }),
  remove: (id: string) => api.DELETE("/api/admin/webhooks/endpoints/{id}", at(id)).then(() => undefined),
  disable: (id: string) => api.POST("/api/admin/webhooks/endpoints/{id}/disable", at(id)),
  enable: (id: string, recover: boolean) =>
    api.POST("/api/admin/webhooks/endpoints/{id}/enable", { ...at(id), body: { recover } }),
  rotate: (id: string, overlapHours: number) =>
    api.POST("/api/admin/webhooks/endpoints/{id}/rotate", { ...at(id), body: { overlapHours } }),
  test: (id: string) => api.POST("/api/admin/webhooks/endpoints/{id}/test", at(id)),
  deliveries: (id: string, query: WebhookDeliveryFilter) =>
    api.GET("/api/admin/webhooks/endpoints/{id}/deliveries", { params: { path: { id }, query } }),
  delivery: (id: string, eventId: string) =>
    api.GET("/api/admin/webhooks/endpoints/{id}/deliveries/{eventId}", atEvent(id, eventId)),
  replayOne: (id: string, eventId: string) =>
    api.POST("/api/admin/webhooks/endpoints/{id}/deliveries/{eventId}/replay", atEvent(id, eventId)),
  replayRange: (id: string, body: WebhookReplayInput) =>
    api.POST("/api/admin/webhooks/endpoints/{id}/replays", { ...at(id), body }),
  replays: async (id: string) => (await api.GET("/api/admin/webhooks/endpoints/{id}/replays", at(id))).items,
};
