import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { t } from "../i18n/index.js";
import type { ApiClient } from "./api.js";

export interface SessionData<Me> {
  me: Me;
  csrfToken: string;
  /** Epoch ms when the server ends the session. */
  expiresAt: number;
}

export interface SessionState<Me, Login = unknown> {
  status: "loading" | "in" | "out";
  session: SessionData<Me> | null;
  /** Why the user was sent back to login (session expired, logged out elsewhere). */
  notice: string | null;
  login(body: Login): Promise<void>;
  logout(): Promise<void>;
  /** Called by the API client on a 401: the session is gone. */
  expire(message?: string): void;
}

// biome-ignore lint/suspicious/noExplicitAny: one context shape shared by both apps' Me types
const SessionContext = createContext<SessionState<any> | null>(null);

/** setTimeout's delay is a signed 32-bit number of ms. */
const MAX_TIMER_MS = 2_000_000_000;

/** The session calls of one app, through its typed API client. */
export interface SessionCalls<Me, Login> {
  /**
   * The session at start-up, or null when there is none. It asks an endpoint that answers 200
   * either way, so a page that is not logged in yet makes no failed request (and logs no 401).
   */
  probe(): Promise<SessionData<Me> | null>;
  login(body: Login): Promise<SessionData<Me>>;
  logout(): Promise<unknown>;
}

/**
 * The login session of one app (back office or portal): loaded by `probe` at start, set by
 * login, cleared by logout, by a 401 from any request, and by a timer at `expiresAt`.
 */
export function SessionProvider<Me, Login>(props: {
  api: Pick<ApiClient, "setCsrfToken">;
  calls: SessionCalls<Me, Login>;
  /** The API client calls this on 401; the provider fills it in. */
  bindExpire: (fn: (message?: string) => void) => void;
  children: ReactNode;
}) {
  const { api, calls } = props;
  const [status, setStatus] = useState<"loading" | "in" | "out">("loading");
  const [session, setSession] = useState<SessionData<Me> | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // Set from the moment the session ends here (or a logout starts) until the next login: a
  // request that was in flight then and answers 401 afterwards must not replace the notice
  // ("logged out") with "session expired".
  const ended = useRef(false);

  const clear = useCallback(
    (message: string | null) => {
      ended.current = true;
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      api.setCsrfToken(null);
      setSession(null);
      setStatus("out");
      setNotice(message);
    },
    [api],
  );

  const expire = useCallback(
    (message?: string) => {
      if (!ended.current) clear(message ?? t("session.expired"));
    },
    [clear],
  );

  const start = useCallback(
    (data: SessionData<Me>) => {
      ended.current = false;
      api.setCsrfToken(data.csrfToken);
      setSession(data);
      setStatus("in");
      setNotice(null);
      if (timer.current) clearTimeout(timer.current);
      const ms = Math.min(MAX_TIMER_MS, Math.max(0, data.expiresAt - Date.now()));
      timer.current = setTimeout(() => clear(t("session.expired")), ms);
    },
    [api, clear],
  );

  useEffect(() => {
    props.bindExpire(expire);
  }, [props.bindExpire, expire]);

  useEffect(() => {
    let cancelled = false;
    calls
      .probe()
      .then((data) => {
        if (cancelled) return;
        if (data) start(data);
        else clear(null);
      })
      .catch(() => {
        // Not "logged out": the probe itself failed (network, server); said on the login page.
        if (!cancelled) clear(t("error.network"));
      });
    return () => {
      cancelled = true;
      if (timer.current) clearTimeout(timer.current);
    };
  }, [calls, start, clear]);

  const login = useCallback(
    async (body: Login) => {
      const data = await calls.login(body);
      start(data);
    },
    [calls, start],
  );

  const logout = useCallback(async () => {
    ended.current = true;
    try {
      await calls.logout();
    } catch {
      // The session may already be gone; the user is logged out here either way.
    }
    clear(t("session.loggedOut"));
  }, [calls, clear]);

  const value = useMemo<SessionState<Me, Login>>(
    () => ({ status, session, notice, login, logout, expire }),
    [status, session, notice, login, logout, expire],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

export function useSession<Me, Login = unknown>(): SessionState<Me, Login> {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx as SessionState<Me, Login>;
}
