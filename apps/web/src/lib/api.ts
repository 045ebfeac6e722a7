/**
 * The one HTTP client of both apps. Cookies carry the session (httpOnly, never readable
 * here); writes send the CSRF token the login or `me` answer gave. Errors come back as
 * ApiError with the server's code, message and field issues, so forms can show them inline.
 */
export type FieldIssue = { path: string; message: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export interface ApiClient {
  setCsrfToken(token: string | null): void;
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** A POST whose answer is data also for the listed error statuses (e.g. 502 with a result). */
  postAccepting<T>(path: string, body: unknown, statuses: number[]): Promise<T>;
}

/**
 * `onUnauthenticated` runs when a request other than login answers 401: the session expired
 * or was ended elsewhere, and the app goes back to its login page.
 */
export function createApi(opts: { onUnauthenticated?: (message: string) => void } = {}): ApiClient {
  let csrf: string | null = null;

  async function request<T>(
    method: Method,
    path: string,
    body?: unknown,
    okStatuses: number[] = [],
  ): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (method !== "GET" && csrf) headers["x-csrf-token"] = csrf;
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "network", "network");
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok && !okStatuses.includes(res.status)) {
      const err = (json as { error?: { code?: string; message?: string; issues?: FieldIssue[] } })?.error;
      const error = new ApiError(
        res.status,
        err?.code ?? `http_${res.status}`,
        err?.message ?? res.statusText,
        err?.issues ?? [],
      );
      if (res.status === 401 && !path.endsWith("/login") && !path.endsWith("/me")) {
        opts.onUnauthenticated?.(error.message);
      }
      throw error;
    }
    return json as T;
  }

  return {
    setCsrfToken: (token) => {
      csrf = token;
    },
    get: (path, query) => request("GET", withQuery(path, query)),
    post: (path, body) => request("POST", path, body),
    patch: (path, body) => request("PATCH", path, body),
    put: (path, body) => request("PUT", path, body),
    del: (path) => request("DELETE", path),
    postAccepting: (path, body, statuses) => request("POST", path, body, statuses),
  };
}

/**
 * Server field issues as form errors. Schema issues carry a `body.` prefix (route validation);
 * use-case issues carry plain paths. Both map onto form paths of the same shape.
 */
export function issuesToFormErrors(issues: FieldIssue[], prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of issues) {
    let path = i.path.replace(/^body\.?/, "");
    if (prefix && path.startsWith(prefix)) path = path.slice(prefix.length);
    if (path && !(path in out)) out[path] = i.message;
  }
  return out;
}
