import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../lib/api.js";
import { api } from "./api.js";
import {
  conflict,
  type FxPreviewState,
  initialFxPreview,
  QUOTE_DEBOUNCE_MS,
  quoteKey,
  rateUnavailable,
  receive,
  refuse,
  setInput,
  shouldRequote,
  startRequest,
} from "./fx-preview-model.js";
import type { QuoteInput } from "./types.js";

/** How often the hold's countdown is redrawn (and its end noticed). */
const TICK_MS = 500;

export interface FxPreview {
  state: FxPreviewState;
  /** This browser's clock at the last tick: the countdown and the hold are read against it. */
  now: number;
  /** Ask for a quote of the current input now (the "Try again" of a failed quote). */
  requote: () => void;
  /** Creating the deposit answered 409 quote_expired / quote_mismatch: quote again, to be confirmed. */
  onConflict: () => void;
  /** Creating the deposit answered 503 fx_rate_unavailable. */
  onUnavailable: (from: string, to: string) => void;
}

/**
 * The deposit form's two-sided preview (fx-preview-model.ts) wired to time and the server:
 * quotes after a pause in typing, redraws the countdown, and quotes again when the hold ends.
 * `input` is null for a same-currency currency or an amount the form does not accept.
 */
export function useFxPreview(input: QuoteInput | null, accountCurrency: string | null): FxPreview {
  const [state, setState] = useState<FxPreviewState>(initialFxPreview);
  const [now, setNow] = useState(() => Date.now());
  // The latest state for the answers that arrive after a render.
  const current = useRef(state);
  const to = useRef(accountCurrency ?? "");
  to.current = accountCurrency ?? "";
  const update = useCallback((next: (s: FxPreviewState) => FxPreviewState) => {
    current.current = next(current.current);
    setState(current.current);
  }, []);

  const send = useCallback(() => {
    const started = startRequest(current.current, Date.now());
    if (!started) return;
    const { request } = started;
    update(() => started.state);
    api.POST("/api/portal/deposit-quote", { body: request.body }).then(
      (quote) => update((s) => receive(s, request, quote)),
      (err: unknown) => {
        const error =
          err instanceof ApiError ? { status: err.status, code: err.code } : { status: 0, code: "network" };
        update((s) => refuse(s, request, error, to.current));
      },
    );
  }, [update]);

  const key = input ? quoteKey(input) : null;
  // A new amount, currency or method: the figures of another input go; ask after the pause.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for the input
  useEffect(() => {
    update((s) => setInput(s, input));
    if (!input) return;
    const timer = setTimeout(send, QUOTE_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [key]);

  const expiresAt = state.shown?.expiresAt ?? null;
  useEffect(() => {
    setNow(Date.now());
    if (expiresAt === null) return;
    const timer = setInterval(() => {
      const at = Date.now();
      setNow(at);
      if (shouldRequote(current.current, at)) send();
    }, TICK_MS);
    return () => clearInterval(timer);
  }, [expiresAt, send]);

  const onConflict = useCallback(() => {
    update(conflict);
    send();
  }, [update, send]);
  const onUnavailable = useCallback(
    (from: string, toCurrency: string) => update((s) => rateUnavailable(s, from, toCurrency)),
    [update],
  );

  return { state, now, requote: send, onConflict, onUnavailable };
}
