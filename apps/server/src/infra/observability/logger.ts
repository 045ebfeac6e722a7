import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Everything that may hold a secret, at the depths our log lines use. Fastify's request
 * serialiser never logs headers; these paths catch our own structured fields.
 */
export const REDACT_PATHS = [
  "token",
  "password",
  "apiKey",
  "api_key",
  "secret",
  "cookie",
  "authorization",
  "*.token",
  "*.password",
  "*.apiKey",
  "*.api_key",
  "*.secret",
  "*.cookie",
  "*.authorization",
  "*.*.token",
  "*.*.password",
  'req.headers["crm-pay-token"]',
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers["crm-pay-token"]',
  "headers.cookie",
  "headers.authorization",
  "*.headers['crm-pay-token']",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { service: "psphub" },
    },
    destination,
  );
}
