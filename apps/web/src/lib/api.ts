import createClient, { type FetchResponse, type MaybeOptionalInit } from "openapi-fetch";
import { isMessageKey, type MessageKey, t } from "../i18n/index.js";
import type { paths } from "./api-schema.js";

/**
 * The one HTTP client of both apps, typed by the server's OpenAPI document (api-schema.d.ts,
 * generated): a path, its parameters, its body and its answer are checked by the compiler.
 * Cookies carry the session (httpOnly, never readable here); writes send the CSRF token the
 * login or `me` answer gave. Errors come back as ApiError with the server's code, message and
 * field issues, so forms can show them inline.
 */
export type FieldIssue = { path: string; message: string };

/**
 * A refused request. In a client-facing app (the portal) `message` and each issue's `message`
 * are the client's language, read from the dictionary by the error's code and the issue's
 * field path whenever they are shown (so a language switch applies to errors already on the
 * page); the server's English words stay in `serverMessage` and `serverIssues`, never shown.
 * The back office shows the server's own (English) words, which name the exact rule broken.
 */
export class ApiError extends Error {
  readonly serverMessage: string;
  readonly issues: FieldIssue[];
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly serverIssues: FieldIssue[] = [],
    readonly clientFacing = false,
  ) {
    super(message);
    this.name = "ApiError";
    this.serverMessage = message;
    if (clientFacing) {
      Object.defineProperty(this, "message", {
        get: () => clientErrorText(status, code),
        configurable: true,
      });
      this.issues = serverIssues.map((i) => ({
        path: i.path,
        get message() {
          return clientIssueText(i.path);
        },
      }));
    } else {
      this.issues = serverIssues;
    }
  }
}

/** Codes whose words already exist outside the `portalError.` group. */
const SHARED_ERROR_KEYS: Readonly<Record<string, MessageKey>> = {
  network: "error.network",
  internal: "error.server",
};

/** `portalError.<code>` for the first code that has one ("payment_provider_failed" has a reason too). */
function portalErrorKey(codes: readonly (string | null | undefined)[]): MessageKey | null {
  for (const code of codes) {
    if (!code) continue;
    const shared = SHARED_ERROR_KEYS[code];
    if (shared) return shared;
    const key = `portalError.${code}`;
    if (isMessageKey(key)) return key;
  }
  return null;
}

/**
 * What a client reads for a refused request: the words of its code, else a generic text by
 * status (a new server code shows the generic text until it has its own key).
 */
export function clientErrorText(status: number, code: string): string {
  const key = portalErrorKey([code]);
  if (key) return t(key);
  return t(status >= 500 || status === 0 ? "error.server" : "portalError.generic");
}

/** What a client reads next to a field the server refused, by the field's path. */
export function clientIssueText(path: string): string {
  const field = path.replace(/^body\.?/, "").split(".")[0] ?? "";
  const key = `portalIssue.${field}`;
  return t(isMessageKey(key) ? key : "portalIssue.generic");
}

type Method = "get" | "post" | "patch" | "put" | "delete";
type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];
type Init<P extends keyof paths, M extends Method> = MaybeOptionalInit<paths[P], M>;
/** The init argument, optional when the operation needs no parameter and no body. */
type InitArg<P extends keyof paths, M extends Method> =
  undefined extends Init<P, M> ? [init?: Init<P, M>] : [init: Init<P, M>];
type Answer<P extends keyof paths, M extends Method> = FetchResponse<
  paths[P][M] & Record<string | number, unknown>,
  unknown,
  "application/json"
>;
/** The JSON answer of a successful call (`undefined` for 204). */
export type ApiData<P extends keyof paths, M extends Method> = NonNullable<Answer<P, M>["data"]>;
/** The JSON answer of a documented error status. */
export type ApiErrorData<P extends keyof paths, M extends Method> = NonNullable<Answer<P, M>["error"]>;

/** The JSON body an operation takes. */
export type ApiBody<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

type Call<M extends Method> = <P extends PathsWith<M>>(
  path: P,
  ...init: InitArg<P, M>
) => Promise<ApiData<P, M>>;

export interface ApiClient {
  setCsrfToken(token: string | null): void;
  GET: Call<"get">;
  POST: Call<"post">;
  PATCH: Call<"patch">;
  PUT: Call<"put">;
  DELETE: Call<"delete">;
  /** A POST whose answer is data also for the listed error statuses (e.g. 502 with a result). */
  postAccepting<P extends PathsWith<"post">>(
    path: P,
    init: Init<P, "post">,
    statuses: number[],
  ): Promise<ApiData<P, "post"> | ApiErrorData<P, "post">>;
}

/** Query parameters as the server reads them: empty filters (undefined, null, "") are left out. */
function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  return params.toString();
}

/**
 * `onUnauthenticated` runs when a request other than login answers 401: the session expired
 * or was ended elsewhere, and the app goes back to its login page. A portal whose company the
 * platform operator suspended answers 409 `tenant_suspended` to every request: the same.
 */
export function createApi(
  opts: {
    onUnauthenticated?: (message: string, code: string) => void;
    /** The portal: errors speak the client's language, never the server's words. */
    clientFacing?: boolean;
  } = {},
): ApiClient {
  const clientFacing = opts.clientFacing ?? false;
  let csrf: string | null = null;
  const client = createClient<paths>({
    credentials: "same-origin",
    headers: { accept: "application/json" },
    querySerializer: queryString,
  });
  client.use({
    onRequest({ request }) {
      if (request.method !== "GET" && csrf) request.headers.set("x-csrf-token", csrf);
    },
    // fetch itself failed (offline, connection refused): no answer to read.
    onError: () => new ApiError(0, "network", "network", [], clientFacing),
  });

  async function request(method: Method, path: string, init: unknown, okStatuses: number[] = []) {
    const { data, error, response: res } = await client.request(method, path as never, init as never);
    if (res.ok) return data;
    if (okStatuses.includes(res.status)) return error;
    const err = (error as { error?: { code?: string; message?: string; issues?: FieldIssue[] } } | undefined)
      ?.error;
    const apiError = new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? res.statusText,
      err?.issues ?? [],
      clientFacing,
    );
    const sessionOver = res.status === 401 || apiError.code === "tenant_suspended";
    if (sessionOver && !path.endsWith("/login") && !path.endsWith("/me")) {
      opts.onUnauthenticated?.(apiError.message, apiError.code);
    }
    throw apiError;
  }

  const call =
    <M extends Method>(method: M): Call<M> =>
    (path, ...init) =>
      request(method, path, init[0]) as never;
  return {
    setCsrfToken: (token) => {
      csrf = token;
    },
    GET: call("get"),
    POST: call("post"),
    PATCH: call("patch"),
    PUT: call("put"),
    DELETE: call("delete"),
    postAccepting: (path, init, statuses) => request("post", path, init, statuses) as never,
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
