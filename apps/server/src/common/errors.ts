/**
 * The one error hierarchy of the server. Use-cases throw these; the HTTP error handler maps
 * them to responses. Anything that is not an AppError is an internal error and answers a
 * bare 500 that never carries internals.
 */
export type FieldIssue = { path: string; message: string };

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly details?: { issues?: FieldIssue[]; [k: string]: unknown },
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the input breaks a rule. `issues` carry field paths and readable messages. */
export class ValidationError extends AppError {
  constructor(message: string, issues: FieldIssue[] = []) {
    super("validation_failed", 400, message, { issues });
  }
}

/** 401: no valid credentials. */
export class UnauthenticatedError extends AppError {
  constructor(message = "Authentication required") {
    super("unauthenticated", 401, message);
  }
}

/** 403: authenticated, but the role may not do this (or the CSRF token is missing). */
export class ForbiddenError extends AppError {
  constructor(message = "You are not allowed to do this", code = "forbidden") {
    super(code, 403, message);
  }
}

/**
 * 404: missing, or belonging to another tenant. Both answer exactly the same, so that a
 * tenant cannot probe for another tenant's objects.
 */
export class NotFoundError extends AppError {
  constructor(what = "Resource") {
    super("not_found", 404, `${what} not found`);
  }
}

/** 409: the request conflicts with the current state (idempotency key reuse, state machine). */
export class ConflictError extends AppError {
  constructor(message: string, code = "conflict", details?: Record<string, unknown>) {
    super(code, 409, message, details);
  }
}

/** 429; `retryAfterSeconds` becomes the Retry-After header (error-handler.ts). */
export class RateLimitedError extends AppError {
  constructor(
    message = "Too many attempts, try again later",
    readonly retryAfterSeconds?: number,
  ) {
    super("rate_limited", 429, message);
  }
}

/**
 * 503: a capped resource is saturated and its queue full (password hashing: infra/crypto/
 * hashing.ts); nothing was done, the same request may be sent again after `retryAfterSeconds`.
 */
export class ServiceBusyError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, 503, message);
  }
}

/** 408: the request's body did not arrive in time (http/request-timeouts.ts). */
export class RequestTimeoutError extends AppError {
  constructor(message = "The request was not received in time") {
    super("request_timeout", 408, message);
  }
}
