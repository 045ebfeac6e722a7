// The part of autocannon's programmatic API the benchmarks use (the package ships no types).
declare module "autocannon" {
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }
    interface RequestSpec extends Request {
      setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
    }
    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      amount?: number;
      overallRate?: number;
      timeout?: number;
      requests?: RequestSpec[];
    }
    interface Result {
      errors: number;
      timeouts: number;
      requests: { total: number; average: number };
      latency: { p50: number; p99: number };
    }
    interface Instance {
      stop(): void;
      on(event: "done", cb: (r: Result) => void): void;
      on(
        event: "response",
        cb: (client: unknown, status: number, bytes: number, responseTimeMs: number) => void,
      ): void;
    }
  }
  function autocannon(
    opts: autocannon.Options,
    cb: (err: Error | null, res: autocannon.Result) => void,
  ): autocannon.Instance;
  export default autocannon;
}
