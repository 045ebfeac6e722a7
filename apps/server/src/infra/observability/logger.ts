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
  // Header bags, at the top level (`{ headers }`) and one level down (`{ req: { headers } }`).
  ...["headers", "*.headers"].flatMap((h) => [
    `${h}["crm-pay-token"]`,
    `${h}.cookie`,
    `${h}.authorization`,
    `${h}["x-csrf-token"]`,
    `${h}["set-cookie"]`,
    // An external rate source's key header (modules/fx-rates).
    `${h}.key`,
  ]),
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
