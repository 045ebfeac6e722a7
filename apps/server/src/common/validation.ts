import type { z } from "zod";
import { ValidationError } from "./errors.js";

/**
 * Parses use-case input with a zod schema, turning failures into one ValidationError with
 * field paths. Routes validate too (for the OpenAPI document); use-cases validate again
 * because the CLI and the demo seed call them without HTTP.
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new ValidationError(
      "The input is invalid",
      r.error.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message })),
    );
  }
  return r.data;
}
