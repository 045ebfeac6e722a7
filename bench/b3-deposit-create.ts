import { join } from "node:path";
import { type Child, type PsphubProcess, REPO_ROOT, startScript } from "../tests/support/processes.js";
import type { Seed } from "../tests/support/seed.js";
import {
  type Added,
  addCpu,
  type Cpu,
  cpuMeter,
  type Figures,
  figures,
  log,
  measured,
  over,
} from "./lib/figures.js";
import { type PacedSamples, pacedSamples, pooled, runLoad, runPaced } from "./lib/load.js";
import type { BenchTarget, Settings } from "./lib/settings.js";

/** B3's evenly spaced deposits alternate with the stub called directly, in segments this long. */
export const B3_SEGMENT_S = 2;

/** The stub called directly: evenly spaced, and `burst` as autocannon sends the same rate. */
export type StubDirect = Figures & { burst: Figures };
export type Api1Stub = Child & { url: string };

/** Evenly spaced arrivals (the target's figures); `burst` the same rate as autocannon sends it. */
export type B3Result = Figures & {
  /** The stub called directly in the segments between the deposits' (what `added` is over). */
  stubAlongside: Figures;
  /**
   * Deposits not answered 201, and requests to the bare route and to the stub not answered
   * 200, over the four runs (no answer at all counts too).
   */
  failedAnswers: number;
  burst: Added;
  /** GET /healthz at the same rate: what any route adds on this machine. */
  floor: Added;
  /**
   * Deposits that convert (EUR into the USD wallet) at an external source's cached rate, in
   * segments alternating with the plain ones: `added*` is over the plain deposits beside them.
   */
  fx: Added;
} & Added;

/** The tenant backend that API-1 calls during B3: it answers at once, in a process of its own. */
export const startApi1Stub = (): Promise<Api1Stub> =>
  startScript(join(REPO_ROOT, "tests", "support", "api1-stub-server.ts"));

/** An API-1 request as psphub sends it to the stub, for calling the stub directly. */
function stubRequest(stub: { url: string }) {
  const body = JSON.stringify({
    merchant_id: "0".repeat(32),
    order_no: "abcdefghijkl",
    amount: 100,
    currency: "USD",
    user_id: "c0000000",
    user_name: "Client 0",
    email: "client-0@bench.test",
    phone: "+1 555 0100",
    nationality: "us",
    language: "en-us",
    sign: "0".repeat(40),
  });
  return {
    url: stub.url,
    path: "/pay/url",
    headers: { "content-type": "application/json", "crm-pay-token": "x".repeat(43) },
    body: () => body,
    connections: 10,
  };
}

/** The same generators against the stub directly: B3's floor (evenly spaced, and in bursts). */
export async function stubDirectRun(settings: Settings, stub: Api1Stub): Promise<StubDirect> {
  const { rate, durationS } = settings;
  const opts = stubRequest(stub);
  await runPaced({ ...opts, rate, durationS: 2 });
  const paced = figures(await runPaced({ ...opts, rate, durationS }));
  const burst = figures(await runLoad({ ...opts, overallRate: rate, durationS }));
  return { ...paced, burst };
}

async function portalSession(server: PsphubProcess, s: Seed): Promise<Record<string, string>> {
  const res = await fetch(`${server.url}/api/portal/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ tenant: s.slug, email: "client-0@bench.test", password: s.clientPassword }),
  });
  if (res.status !== 200) throw new Error(`portal login failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" };
}

/**
 * B3: deposit creation by a logged-in client (API-1 to the stub) at the run's rate, evenly
 * spaced, with the stub called directly in alternating segments as its floor; then the same
 * rate in autocannon's bursts, and GET /healthz (what any route adds).
 */
export async function runB3(
  t: BenchTarget,
  server: PsphubProcess,
  stub: Api1Stub & { direct: StubDirect },
): Promise<B3Result> {
  const { settings, kind, seed: s } = t;
  const { rate, durationS } = settings;
  const headers = await portalSession(server, s);
  const depositsOf = (methodId: string, currency: string) => {
    const body = JSON.stringify({ methodId, currency, amount: "100.00" });
    return { url: server.url, path: "/api/portal/deposits", headers, body: () => body, connections: 10 };
  };
  const deposits = depositsOf(s.methodId, "USD");
  const fxDeposits = depositsOf(s.fxMethodId, "EUR");
  // Warm the routes, the outbound connection pool and the rate cache first.
  await runPaced({ ...deposits, rate, durationS: 2 });
  await runPaced({ ...fxDeposits, rate, durationS: 1 });
  // The deposits and the stub called directly (their floor) in alternating segments of
  // B3_SEGMENT_S, each side's answers pooled: on this shared machine the floor moves from
  // minute to minute, so it is measured in the same seconds as what it is subtracted from.
  const depositRuns: PacedSamples[] = [];
  const fxRuns: PacedSamples[] = [];
  const stubRuns: PacedSamples[] = [];
  const toStub = stubRequest(stub);
  let cpu: Cpu | undefined;
  let fxCpu: Cpu | undefined;
  for (let left = durationS; left > 0; left -= B3_SEGMENT_S) {
    const segment = Math.min(B3_SEGMENT_S, left);
    stubRuns.push(await pacedSamples({ ...toStub, rate, durationS: segment }));
    const meter = cpuMeter(server, kind);
    depositRuns.push(await pacedSamples({ ...deposits, rate, durationS: segment }));
    cpu = cpu ? addCpu(cpu, meter()) : meter();
    const fxMeter = cpuMeter(server, kind);
    fxRuns.push(await pacedSamples({ ...fxDeposits, rate, durationS: segment }));
    fxCpu = fxCpu ? addCpu(fxCpu, fxMeter()) : fxMeter();
  }
  const load = figures(pooled(depositRuns), cpu);
  const fx = figures(pooled(fxRuns), fxCpu);
  const stubAlongside = figures(pooled(stubRuns));
  const burst = await measured(server, kind, () => runLoad({ ...deposits, durationS, overallRate: rate }));
  const floor = await measured(server, kind, () =>
    runPaced({
      url: server.url,
      path: "/healthz",
      method: "GET",
      rate,
      durationS,
      connections: 10,
    }),
  );
  const notOk = (f: Figures, ok: string) =>
    Object.entries(f.statuses).reduce((a, [code, n]) => (code === ok ? a : a + n), f.unanswered);
  const failed =
    notOk(load, "201") +
    notOk(fx, "201") +
    notOk(burst, "201") +
    notOk(floor, "200") +
    notOk(stubAlongside, "200");
  const b3: B3Result = {
    ...over(load, stubAlongside),
    stubAlongside,
    failedAnswers: failed,
    burst: over(burst, stub.direct.burst),
    floor: over(floor, stubAlongside),
    fx: over(fx, load),
  };
  log(
    `${kind}: B3 ${load.requests} deposits at ${load.rps.toFixed(0)}/s evenly spaced: p50 ${load.p50.toFixed(2)} ms ` +
      `p99 ${load.p99} ms (the stub alongside: p50 ${stubAlongside.p50} ms p99 ${stubAlongside.p99} ms); in autocannon's bursts: p50 ${burst.p50} ms p99 ${burst.p99} ms; ` +
      `converting at an external rate: p50 ${fx.p50} ms p99 ${fx.p99} ms; failed answers: ${failed}`,
  );
  return b3;
}
