import type { IncomingMessage, ServerResponse } from "node:http";
import { constantTimeEquals } from "@psphub/protocol";

/**
 * The simulator's exchange-rate API (docs/psp-open-api.md#exchange-rate-api-ours):
 * `GET /fx/rate?from=EUR&to=USD` with the `key` header → `{"rate":"1.0781","time":<Unix ms>}`.
 *
 * Modes, to test the CRM's rate lookup:
 * - `slow`: answers after `slowMs` (longer than a source's timeout);
 * - `failing`: 500;
 * - `garbage`: text that is not JSON;
 * - `stale`: a `time` an hour old.
 */
export const FX_MODES = ["slow", "failing", "garbage", "stale"] as const;
export type FxMode = (typeof FX_MODES)[number];

/** The table the simulator answers from unless configured: `FROM/TO` → rate. */
export const DEFAULT_FX_RATES: Readonly<Record<string, string>> = {
  "EUR/USD": "1.0781",
  "USD/EUR": "0.9275",
  "GBP/USD": "1.2650",
  "USD/GBP": "0.7905",
};

export interface FxApiOptions {
  /** `FROM/TO` → decimal text. Default {@link DEFAULT_FX_RATES}. */
  readonly rates?: Readonly<Record<string, string>>;
  /** The `key` header every request must carry; none: any key (or none) is accepted. */
  readonly key?: string;
  readonly mode?: FxMode | null;
  /** The clock of the answers' `time` (tests move it). Default Date.now. */
  readonly now?: () => number;
}

export interface FxRateApi {
  /** Requests answered (or refused) so far: a test counts calls with it. */
  requests(): number;
  setMode(mode: FxMode | null): void;
  setKey(key: string | undefined): void;
  setRate(from: string, to: string, rate: string): void;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** Ends slow answers still waiting (the simulator's close). */
  close(): void;
}

export function checkFxMode(text: string): FxMode | null {
  if (text === "" || text === "none") return null;
  if (!(FX_MODES as readonly string[]).includes(text))
    throw new Error(`unknown fx mode ${JSON.stringify(text)} (one of ${FX_MODES.join(", ")})`);
  return text as FxMode;
}

export function createFxRateApi(
  options: FxApiOptions,
  env: { slowMs: number; log: (line: string) => void },
): FxRateApi {
  const rates = new Map(Object.entries(options.rates ?? DEFAULT_FX_RATES));
  let key = options.key;
  let mode: FxMode | null = options.mode ?? null;
  let count = 0;
  const timers = new Set<NodeJS.Timeout>();
  const now = options.now ?? Date.now;

  const answer = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string) =>
    answer(res, status, "application/json; charset=utf-8", JSON.stringify({ error: { code, message } }));

  return {
    requests: () => count,
    setMode(m) {
      mode = m;
    },
    setKey(k) {
      key = k;
    },
    setRate(from, to, rate) {
      rates.set(`${from}/${to}`, rate);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
    async handle(req, res, url) {
      req.resume();
      if (req.method !== "GET") return error(res, 405, "method_not_allowed", "use GET");
      count += 1;
      const given = req.headers.key;
      // Compared even without a configured key's match, so timing tells nothing about it.
      if (key !== undefined && !constantTimeEquals(typeof given === "string" ? given : "", key)) {
        env.log("FX: refused a request with a wrong key");
        return error(res, 401, "key_invalid", "the key header is missing or wrong");
      }
      if (mode === "slow") {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, env.slowMs);
          timers.add(t);
        });
        if (res.destroyed) return;
      }
      if (mode === "failing")
        return error(res, 500, "internal", "the rate service is failing (mode failing)");
      if (mode === "garbage") return answer(res, 200, "text/plain; charset=utf-8", "rates are <b>down</b>");
      const from = url.searchParams.get("from") ?? "";
      const to = url.searchParams.get("to") ?? "";
      const rate = rates.get(`${from}/${to}`);
      if (rate === undefined) return error(res, 404, "pair_unknown", `no ${from}/${to} rate`);
      const time = mode === "stale" ? now() - 3_600_000 : now();
      env.log(`FX: ${from}/${to} ${rate}${mode ? ` (mode ${mode})` : ""}`);
      return answer(res, 200, "application/json; charset=utf-8", JSON.stringify({ rate, time }));
    },
  };
}
