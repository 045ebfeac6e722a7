import { execSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type BenchDb,
  createBenchDatabase,
  creditTotals,
  type DbKind,
  dropAll,
  insertOrders,
  ORDER,
  orderCredits,
  type Seed,
  seed,
  successBodies,
  walletMismatches,
} from "./lib/db.js";
import { type LoadResult, type PacedSamples, pacedSamples, pooled, runLoad, runPaced } from "./lib/load.js";
import {
  buildServer,
  type Child,
  killAll,
  type PsphubProcess,
  postgresCpuMs,
  REPO_ROOT,
  type ServerMode,
  startPsphub,
  startScript,
} from "./lib/proc.js";
import { summariseProfile } from "./lib/profile.js";

/**
 * `npm run bench`: B1–B4 of issue 7 against a baseline measured in the same run.
 *
 *   npm run bench                          everything (about 5 minutes on 2 cores)
 *   npm run bench -- --only b1 --db sqlite one benchmark on one database
 *   npm run bench -- --duration 3 --growth 100000   shorter runs
 *   npm run bench -- --profile             also write CPU profiles of the servers (B1–B3, B4)
 *
 * Every server runs as a child process on 127.0.0.1 (the production bundle, built first into
 * bench/.build); every run is bounded in time and count. Results: a table on stdout and JSON in
 * bench/results/latest.json (or --out).
 */

const { values: flags } = parseArgs({
  options: {
    only: { type: "string", default: "b1,b2,b3,b4" },
    db: { type: "string", default: "sqlite,postgres" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    growth: { type: "string", default: "1000000" },
    connections: { type: "string", default: "64" },
    rate: { type: "string", default: "200" },
    profile: { type: "boolean", default: false },
    mode: { type: "string", default: "built" },
    pool: { type: "string" },
    out: { type: "string", default: join(REPO_ROOT, "bench", "results", "latest.json") },
    label: { type: "string", default: "" },
    bundle: { type: "string" },
  },
});
const only = new Set(flags.only!.split(",").map((s) => s.trim().toLowerCase()));
const kinds = flags.db!.split(",").map((s) => s.trim()) as DbKind[];
const DURATION = Number(flags.duration);
const WARMUP = Number(flags.warmup);
const GROWTH = Number(flags.growth);
const CONNECTIONS = Number(flags.connections);
const RATE = Number(flags.rate);
/** B3's evenly spaced deposits alternate with the stub called directly, in segments this long. */
const B3_SEGMENT_S = 2;
const MODE = flags.mode as ServerMode;
const B2_ORDERS = 200;
const B2_CALLBACKS = 20_000;
const CALLBACK_PATH = "/api/psp/pay/callback";
/** `--bundle path/psphub.js`: run that build instead of building apps/server (before/after comparisons). */
const bundleOpt = flags.bundle ? { bundle: flags.bundle } : {};
const PROFILE_DIR = join(REPO_ROOT, "bench", "results", "profiles");

const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const round = (n: number, d = 2) => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : null);

type Figures = {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Server CPU time (user + system) per answered request, µs. */
  cpuUsPerReq?: number;
  /** PostgreSQL's CPU time (all its processes) per answered request, µs: the database's share. */
  dbCpuUsPerReq?: number;
  statuses: Record<string, number>;
  /** Requests that got no answer at all (connection errors, timeouts): not in the latencies. */
  unanswered: number;
};

/** CPU time spent over a run, ms: the server's, and PostgreSQL's when it is the database. */
type Cpu = { serverMs: number; dbMs?: number };

/** The CPU of two runs together. */
const addCpu = (a: Cpu, b: Cpu): Cpu => ({
  serverMs: a.serverMs + b.serverMs,
  ...(a.dbMs !== undefined && b.dbMs !== undefined ? { dbMs: a.dbMs + b.dbMs } : {}),
});

/** Starts measuring; the function returned gives the CPU spent since. */
function cpuMeter(server: { cpuMs(): number }, kind?: DbKind): () => Cpu {
  const read = (): Cpu => ({
    serverMs: server.cpuMs(),
    ...(kind === "postgres" ? { dbMs: postgresCpuMs() } : {}),
  });
  const start = read();
  return () => {
    const end = read();
    return {
      serverMs: end.serverMs - start.serverMs,
      ...(start.dbMs !== undefined && end.dbMs !== undefined ? { dbMs: end.dbMs - start.dbMs } : {}),
    };
  };
}

const perRequestUs = (ms: number, r: LoadResult) => round((ms * 1000) / Math.max(1, r.requests), 0)!;
const figures = (r: LoadResult, cpu?: Cpu): Figures => ({
  rps: round(r.rps, 0)!,
  ...(cpu ? { cpuUsPerReq: perRequestUs(cpu.serverMs, r) } : {}),
  ...(cpu?.dbMs !== undefined ? { dbCpuUsPerReq: perRequestUs(cpu.dbMs, r) } : {}),
  p50: round(r.p50)!,
  p99: round(r.p99)!,
  requests: r.requests,
  statuses: r.statuses,
  unanswered: r.errors + r.timeouts,
});

type StubDirect = Figures & { burst: Figures };

/** B3's figures with their p50 and p99 over the stub called the same way. */
type Added = Figures & { addedP50: number; addedP99: number };
const over = (f: Figures, floor: Figures | undefined): Added => ({
  ...f,
  addedP50: floor ? round(f.p50 - floor.p50)! : Number.NaN,
  addedP99: floor ? round(f.p99 - floor.p99)! : Number.NaN,
});

/** "N µs CPU/req", with PostgreSQL's share when it was measured. */
const cpuNote = (f: Figures) =>
  `${f.cpuUsPerReq ?? "–"} µs CPU/req` +
  (f.dbCpuUsPerReq !== undefined ? ` (+ PostgreSQL ${f.dbCpuUsPerReq} µs)` : "");

/** A run's figures with the server's (and PostgreSQL's) CPU over it. */
async function measured(
  server: PsphubProcess,
  kind: DbKind,
  run: () => Promise<LoadResult>,
): Promise<Figures> {
  const cpu = cpuMeter(server, kind);
  const r = await run();
  return figures(r, cpu());
}

type KindResults = {
  baseline?: Figures;
  b1?: Figures & {
    credited: number;
    answered204: number;
    verified: boolean;
    peakRssMb: number;
    /** Callbacks per batch (group commit), on average. */
    meanBatch: number;
  };
  b2?: Figures & { credits: number; ledgerSum: number; expectedSum: number; verified: boolean };
  /** Evenly spaced arrivals (the target's figures); `burst` the same rate as autocannon sends it. */
  b3?: Figures & {
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
  } & Added;
  b4?: Figures & {
    ordersInDb: number;
    p99RatioToB1: number;
    peakRssMb: number;
    verified: boolean;
    insertSeconds: number;
    meanBatch: number;
  };
  profile?: string;
  b4Profile?: string;
};

/**
 * Prints and saves the summary of the newest main-thread CPU profile in `dir`; returns its path.
 * Files are CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: the main thread's (id 0), not
 * the SQLite checkpoint worker's.
 */
function printProfile(dir: string, name: string, what: string): string | undefined {
  const newest = readdirSync(dir)
    .filter((f) => /\.0\.\d+\.cpuprofile$/.test(f))
    .sort()
    .at(-1);
  if (!newest) return undefined;
  const summary = summariseProfile(readFileSync(join(dir, newest), "utf8"));
  writeFileSync(join(dir, "summary.txt"), summary);
  console.log(`\n--- CPU profile of the ${name.replace(/-.*/, "")} server during ${what} ---\n${summary}`);
  return join("bench", "results", "profiles", name, newest);
}

const serverEnv = (db: BenchDb): Record<string, string> => ({
  ...db.env,
  HOST: "127.0.0.1",
  PORT: "0",
  PUBLIC_BASE_URL: "http://127.0.0.1:3000",
  LOG_LEVEL: "warn",
  EXPIRY_SWEEP_SECONDS: "0",
  ALLOW_PRIVATE_APP_URLS: "true",
  DEPOSIT_RATE_LIMIT_PER_MINUTE: "100000000",
  ...(flags.pool ? { DB_POOL_SIZE: flags.pool } : {}),
});

const callbackHeaders = (s: Seed) => ({ "content-type": "application/json", "crm-pay-token": s.token });

/** B1 (and B4): distinct success callbacks at concurrency 64; verify each 204 credited once. */
async function callbackRun(
  server: PsphubProcess,
  db: BenchDb,
  s: Seed,
  prefix: string,
  ordersReady: number,
): Promise<{
  load: LoadResult;
  cpu: Cpu;
  verified: boolean;
  credited: number;
  answered204: number;
  /** Callbacks per batch (group commit), on average over the run. */
  meanBatch: number;
}> {
  const bodies = successBodies(s, prefix, ordersReady);
  const statusOf = new Int16Array(ordersReady);
  const batchesBefore = await callbackBatches(server);
  const meter = cpuMeter(server, db.kind);
  const load = await runLoad({
    url: server.url,
    path: CALLBACK_PATH,
    headers: callbackHeaders(s),
    body: (i) => bodies[i],
    connections: CONNECTIONS,
    durationS: DURATION,
    maxRequests: ordersReady,
    onResponse: (i, status) => {
      statusOf[i] = status;
    },
  });
  const cpu = meter();
  const batchesAfter = await callbackBatches(server);
  const meanBatch = round(
    (batchesAfter.sum - batchesBefore.sum) / Math.max(1, batchesAfter.count - batchesBefore.count),
    1,
  )!;
  const credits = await orderCredits(db, prefix);
  let answered204 = 0;
  let bad = 0;
  let credited = 0;
  for (let i = 0; i < ordersReady; i++) {
    const c = credits.get(bodiesOrderNo(bodies[i]!));
    if (c && c.credits > 1) bad++;
    if (c && c.credits === 1) credited++;
    if (statusOf[i] === 204) {
      answered204++;
      if (c?.credits !== 1 || c.status !== "succeeded" || c.credited !== ORDER.creditMinor) bad++;
    }
  }
  const totals = await creditTotals(db);
  const mismatches = await walletMismatches(db);
  const verified = bad === 0 && totals.doubles === 0 && mismatches.length === 0 && answered204 > 0;
  if (!verified)
    log(
      `VERIFY FAILED ${prefix}: bad=${bad} doubles=${totals.doubles} walletMismatches=${mismatches.length}`,
    );
  return { load, cpu, verified, credited, answered204, meanBatch };
}

/** The server's count and sum of API-2 batch sizes so far (its /metrics histogram). */
async function callbackBatches(server: PsphubProcess): Promise<{ count: number; sum: number }> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const of = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  return { count: of("psphub_callback_batch_size_count"), sum: of("psphub_callback_batch_size_sum") };
}

const bodiesOrderNo = (body: string) => /"order_no":"([^"]+)"/.exec(body)![1]!;

/** A short run on its own orders so the server's JIT and caches are warm before measuring. */
async function warmUp(server: PsphubProcess, s: Seed, prefix: string, count: number): Promise<LoadResult> {
  const bodies = successBodies(s, prefix, count);
  return runLoad({
    url: server.url,
    path: CALLBACK_PATH,
    headers: callbackHeaders(s),
    body: (i) => bodies[i],
    connections: CONNECTIONS,
    durationS: WARMUP,
    maxRequests: count,
  });
}

/** Orders enough for a run at `rps` for DURATION seconds, with a wide margin (the run stops at either bound). */
const ordersFor = (rps: number) => Math.max(5_000, Math.ceil(rps * DURATION * 2.5));

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

async function runKind(
  kind: DbKind,
  stub: (Child & { url: string; direct: StubDirect }) | undefined,
): Promise<KindResults> {
  const out: KindResults = {};
  // The yardstick for this database's figures, measured right before them: the machine's load
  // changes over minutes, so a baseline from the start of the run would drift.
  if (only.has("b1") || only.has("b2") || only.has("b4")) {
    out.baseline = await baselineRun();
    log(
      `${kind}: baseline ${out.baseline.rps}/s (${out.baseline.cpuUsPerReq} µs CPU each) p50 ${out.baseline.p50} ms p99 ${out.baseline.p99} ms`,
    );
  }
  const needsB1 = only.has("b1") || only.has("b4");
  log(`${kind}: creating and seeding a fresh database`);
  const db = await createBenchDatabase(kind, "bench");
  let server: PsphubProcess | undefined;
  try {
    const s = await seed(db, { clients: 1_000, appUrl: stub?.url ?? "https://psp.example.com" });
    await insertOrders(db, s, { prefix: "w", count: 30_000, kind: "pending" });

    const profileDir = join(PROFILE_DIR, `${kind}-b1`);
    const nodeArgs = flags.profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    if (flags.profile) mkdirSync(profileDir, { recursive: true });
    server = await startPsphub({ mode: MODE, env: serverEnv(db), nodeArgs, ...bundleOpt });
    log(`${kind}: server pid ${server.pid} on ${server.url}`);

    if (needsB1) {
      const warm = await warmUp(server, s, "w", 30_000);
      log(`${kind}: warm-up ${warm.requests} callbacks at ${warm.rps.toFixed(0)}/s`);
      const n = ordersFor(warm.rps);
      await insertOrders(db, s, { prefix: "a", count: n, kind: "pending" });
      log(`${kind}: B1: ${n} pending orders ready, ${CONNECTIONS} connections, ${DURATION} s`);
      const r = await callbackRun(server, db, s, "a", n);
      out.b1 = {
        ...figures(r.load, r.cpu),
        credited: r.credited,
        answered204: r.answered204,
        verified: r.verified,
        peakRssMb: 0,
        meanBatch: r.meanBatch,
      };
      log(
        `${kind}: B1 ${r.load.rps.toFixed(0)}/s (${cpuNote(out.b1)}) p50 ${r.load.p50.toFixed(2)} ms p99 ${r.load.p99.toFixed(2)} ms, ` +
          `${r.meanBatch} callbacks per batch, ${r.answered204} answered 204, verified=${r.verified}`,
      );
    }

    if (only.has("b2")) {
      await insertOrders(db, s, { prefix: "d", count: B2_ORDERS, kind: "pending" });
      const bodies = successBodies(s, "d", B2_ORDERS);
      const cpu = cpuMeter(server, kind);
      // Each order's body about 100 times, interleaved so that duplicates of one order overlap.
      const load = await runLoad({
        url: server.url,
        path: CALLBACK_PATH,
        headers: callbackHeaders(s),
        body: (i) => bodies[i % B2_ORDERS],
        connections: CONNECTIONS,
        durationS: 120,
        maxRequests: B2_CALLBACKS,
      });
      const credits = await orderCredits(db, "d");
      let creditsN = 0;
      let sum = 0;
      let wrong = 0;
      for (const c of credits.values()) {
        creditsN += c.credits;
        sum += c.credited;
        if (c.credits !== 1 || c.status !== "succeeded") wrong++;
      }
      const expectedSum = B2_ORDERS * ORDER.creditMinor;
      const verified =
        creditsN === B2_ORDERS &&
        sum === expectedSum &&
        wrong === 0 &&
        (await walletMismatches(db)).length === 0;
      out.b2 = {
        ...figures(load, cpu()),
        credits: creditsN,
        ledgerSum: sum,
        expectedSum,
        verified,
      };
      log(
        `${kind}: B2 ${load.requests} callbacks over ${B2_ORDERS} orders at ${load.rps.toFixed(0)}/s: ` +
          `${creditsN} credits, ledger ${sum} (expected ${expectedSum}), verified=${verified}`,
      );
    }

    if (only.has("b3") && stub) {
      const headers = await portalSession(server, s);
      const body = JSON.stringify({ methodId: s.methodId, currency: "USD", amount: "100.00" });
      const deposits = {
        url: server.url,
        path: "/api/portal/deposits",
        headers,
        body: () => body,
        connections: 10,
      };
      const srv = server;
      // Warm the route and the outbound connection pool first.
      await runPaced({ ...deposits, rate: RATE, durationS: 2 });
      // The deposits and the stub called directly (their floor) in alternating segments of
      // B3_SEGMENT_S, each side's answers pooled: on this shared machine the floor moves from
      // minute to minute, so it is measured in the same seconds as what it is subtracted from.
      const depositRuns: PacedSamples[] = [];
      const stubRuns: PacedSamples[] = [];
      const toStub = stubRequest(stub);
      let cpu: Cpu | undefined;
      for (let left = DURATION; left > 0; left -= B3_SEGMENT_S) {
        const durationS = Math.min(B3_SEGMENT_S, left);
        stubRuns.push(await pacedSamples({ ...toStub, rate: RATE, durationS }));
        const meter = cpuMeter(srv, kind);
        depositRuns.push(await pacedSamples({ ...deposits, rate: RATE, durationS }));
        cpu = cpu ? addCpu(cpu, meter()) : meter();
      }
      const load = figures(pooled(depositRuns), cpu);
      const stubAlongside = figures(pooled(stubRuns));
      const burst = await measured(srv, kind, () =>
        runLoad({ ...deposits, durationS: DURATION, overallRate: RATE }),
      );
      const floor = await measured(srv, kind, () =>
        runPaced({
          url: srv.url,
          path: "/healthz",
          method: "GET",
          rate: RATE,
          durationS: DURATION,
          connections: 10,
        }),
      );
      const notOk = (f: Figures, ok: string) =>
        Object.entries(f.statuses).reduce((a, [code, n]) => (code === ok ? a : a + n), f.unanswered);
      const failed =
        notOk(load, "201") + notOk(burst, "201") + notOk(floor, "200") + notOk(stubAlongside, "200");
      out.b3 = {
        ...over(load, stubAlongside),
        stubAlongside,
        failedAnswers: failed,
        burst: over(burst, stub.direct.burst),
        floor: over(floor, stubAlongside),
      };
      log(
        `${kind}: B3 ${load.requests} deposits at ${load.rps.toFixed(0)}/s evenly spaced: p50 ${load.p50.toFixed(2)} ms ` +
          `p99 ${load.p99} ms (the stub alongside: p50 ${stubAlongside.p50} ms p99 ${stubAlongside.p99} ms); in autocannon's bursts: p50 ${burst.p50} ms p99 ${burst.p99} ms; failed answers: ${failed}`,
      );
    }

    if (server) {
      const rss = server.peakRssMb();
      if (out.b1) out.b1.peakRssMb = round(rss, 1)!;
      await server.stop();
      server = undefined;
      if (flags.profile) out.profile = printProfile(profileDir, `${kind}-b1`, "warm-up, B1, B2 and B3");
    }

    if (only.has("b4")) {
      const t0 = performance.now();
      log(`${kind}: B4: inserting ${GROWTH.toLocaleString("en")} past orders`);
      await insertOrders(db, s, { prefix: "h", count: GROWTH, kind: "history" });
      const insertSeconds = (performance.now() - t0) / 1000;
      log(`${kind}: B4: inserted in ${insertSeconds.toFixed(1)} s`);
      const b4ProfileDir = join(PROFILE_DIR, `${kind}-b4`);
      if (flags.profile) mkdirSync(b4ProfileDir, { recursive: true });
      server = await startPsphub({
        mode: MODE,
        env: serverEnv(db),
        nodeArgs: flags.profile ? ["--cpu-prof", `--cpu-prof-dir=${b4ProfileDir}`] : [],
        ...bundleOpt,
      });
      await insertOrders(db, s, { prefix: "v", count: 30_000, kind: "pending" });
      const warm = await warmUp(server, s, "v", 30_000);
      const n = ordersFor(warm.rps);
      await insertOrders(db, s, { prefix: "g", count: n, kind: "pending" });
      const r = await callbackRun(server, db, s, "g", n);
      const [{ n: total } = { n: 0 }] = await db.raw.all<{ n: number }>("SELECT COUNT(*) AS n FROM deposits");
      const rss = server.peakRssMb();
      out.b4 = {
        ...figures(r.load, r.cpu),
        ordersInDb: Number(total),
        p99RatioToB1: out.b1 ? round(r.load.p99 / out.b1.p99)! : Number.NaN,
        peakRssMb: round(rss, 1)!,
        verified: r.verified,
        insertSeconds: round(insertSeconds, 1)!,
        meanBatch: r.meanBatch,
      };
      log(
        `${kind}: B4 ${r.load.rps.toFixed(0)}/s p50 ${r.load.p50.toFixed(2)} ms p99 ${r.load.p99.toFixed(2)} ms ` +
          `with ${Number(total).toLocaleString("en")} orders, peak RSS ${rss.toFixed(0)} MB, verified=${r.verified}`,
      );
      await server.stop();
      server = undefined;
      if (flags.profile) out.b4Profile = printProfile(b4ProfileDir, `${kind}-b4`, "B4's warm-up and B4");
    }
  } finally {
    await server?.stop().catch(() => {});
    await db.drop();
  }
  return out;
}

/** The bare node:http server with the same closed-loop load as B1. */
async function baselineRun(): Promise<Figures> {
  const token = "baseline-token-0123456789abcdefghijklmnopqrstuv";
  const s = { merchantId: "0".repeat(32), token } as Seed;
  const bodies = successBodies(s, "a", 50_000);
  const server = await startScript(join(REPO_ROOT, "bench", "servers", "baseline.ts"), [token]);
  try {
    const opts = {
      url: server.url,
      path: CALLBACK_PATH,
      headers: callbackHeaders(s),
      body: (i: number) => bodies[i % bodies.length],
      connections: CONNECTIONS,
    };
    await runLoad({ ...opts, durationS: WARMUP });
    const cpu = cpuMeter(server);
    const r = await runLoad({ ...opts, durationS: DURATION });
    return figures(r, cpu());
  } finally {
    await server.stop();
  }
}

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
async function stubDirectRun(stub: Child & { url: string }): Promise<StubDirect> {
  const opts = stubRequest(stub);
  await runPaced({ ...opts, rate: RATE, durationS: 2 });
  const paced = figures(await runPaced({ ...opts, rate: RATE, durationS: DURATION }));
  const burst = figures(await runLoad({ ...opts, overallRate: RATE, durationS: DURATION }));
  return { ...paced, burst };
}

function machine() {
  const cpu = readFileSync("/proc/cpuinfo", "utf8");
  const model = /model name\s*:\s*(.+)/.exec(cpu)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  let commit = "unknown";
  try {
    commit = execSync("git rev-parse --short HEAD", { cwd: REPO_ROOT }).toString().trim();
  } catch {}
  return {
    nproc: cpus().length,
    cpu: model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit,
  };
}

async function main() {
  const started = Date.now();
  const m = machine();
  log(`machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, node ${m.node}`);
  if (MODE === "built" && !flags.bundle) {
    log("building the server bundle (tsup) into bench/.build");
    buildServer();
  }
  const needsCallbacks = only.has("b1") || only.has("b2") || only.has("b4");
  const baseline = needsCallbacks ? await baselineRun() : undefined;
  if (baseline)
    log(
      `baseline: ${baseline.rps}/s (${baseline.cpuUsPerReq} µs CPU each) p50 ${baseline.p50} ms p99 ${baseline.p99} ms`,
    );

  const stub = only.has("b3")
    ? await startScript(join(REPO_ROOT, "bench", "servers", "api1-stub.ts"))
    : undefined;
  const results: Partial<Record<DbKind, KindResults>> = {};
  let stubDirect: StubDirect | undefined;
  try {
    if (stub) {
      stubDirect = await stubDirectRun(stub);
      log(
        `stub direct at ${RATE}/s evenly spaced: p50 ${stubDirect.p50} ms p99 ${stubDirect.p99} ms; ` +
          `in bursts: p50 ${stubDirect.burst.p50} ms p99 ${stubDirect.burst.p99} ms`,
      );
    }
    for (const kind of kinds) {
      results[kind] = await runKind(kind, stub && stubDirect ? { ...stub, direct: stubDirect } : undefined);
    }
  } finally {
    await stub?.stop();
    await killAll();
  }

  const report = buildReport({ m, stubDirect, results, seconds: (Date.now() - started) / 1000 });
  console.log(`\n${report.table}`);
  mkdirSync(join(REPO_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(flags.out!, `${JSON.stringify(report.json, null, 2)}\n`);
  log(`wrote ${flags.out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  process.exitCode = report.verified ? 0 : 1;
}

type Target = { figure: string; kind: DbKind; value: number | null; target: string; met: boolean };

function buildReport(x: {
  m: ReturnType<typeof machine>;
  stubDirect: StubDirect | undefined;
  results: Partial<Record<DbKind, KindResults>>;
  seconds: number;
}) {
  const { stubDirect, results } = x;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined && b !== 0 ? round(a / b) : null;
  const targets: Target[] = [];
  const rows: string[][] = [];
  const fmt = (n: number | null | undefined, unit = "") =>
    n === null || n === undefined || !Number.isFinite(n) ? "—" : `${n}${unit}`;
  /** A difference with its sign: +2.38, −0.01. */
  const added = (n: number | null | undefined) =>
    n === null || n === undefined || !Number.isFinite(n) ? "—" : n < 0 ? `−${-n}` : `+${n}`;
  if (stubDirect)
    rows.push(
      [
        `stub direct @${RATE}/s`,
        "",
        fmt(stubDirect.rps),
        fmt(stubDirect.p50),
        fmt(stubDirect.p99),
        "",
        "evenly spaced, at the start (B3's floor is taken again beside each database's deposits)",
      ],
      [
        "stub direct, bursts",
        "",
        fmt(stubDirect.burst.rps),
        fmt(stubDirect.burst.p50),
        fmt(stubDirect.burst.p99),
        "",
        "autocannon overallRate: the bursts' floor",
      ],
    );
  let verified = true;
  for (const kind of kinds) {
    const r = results[kind];
    if (!r) continue;
    const baseline = r.baseline;
    if (baseline)
      rows.push([
        "baseline: node:http + verify",
        kind,
        fmt(baseline.rps),
        fmt(baseline.p50),
        fmt(baseline.p99),
        "1.00",
        `measured right before ${kind}'s runs; ${fmt(baseline.cpuUsPerReq)} µs CPU per request`,
      ]);
    if (r.b1) {
      const rr = ratio(r.b1.rps, baseline?.rps);
      const goal = kind === "sqlite" ? 0.5 : 0.3;
      targets.push({
        figure: "B1 rps / baseline",
        kind,
        value: rr,
        target: `≥ ${goal}`,
        met: (rr ?? 0) >= goal,
      });
      rows.push([
        "B1 distinct callbacks",
        kind,
        fmt(r.b1.rps),
        fmt(r.b1.p50),
        fmt(r.b1.p99),
        fmt(rr),
        `rps ≥ ${goal}× baseline; p50 ${fmt(ratio(r.b1.p50, baseline?.p50))}×, p99 ${fmt(ratio(r.b1.p99, baseline?.p99))}×; ${cpuNote(r.b1)}; ${r.b1.meanBatch} per batch; ${r.b1.answered204} × 204 verified=${r.b1.verified}`,
      ]);
      verified &&= r.b1.verified;
    }
    if (r.b2) {
      rows.push([
        "B2 duplicate storm",
        kind,
        fmt(r.b2.rps),
        fmt(r.b2.p50),
        fmt(r.b2.p99),
        fmt(ratio(r.b2.rps, baseline?.rps)),
        `${r.b2.requests} callbacks / ${B2_ORDERS} orders, ${cpuNote(r.b2)}: ${r.b2.credits} credits, ledger ${r.b2.ledgerSum}/${r.b2.expectedSum} verified=${r.b2.verified}`,
      ]);
      verified &&= r.b2.verified;
    }
    if (r.b3) {
      targets.push({
        figure: "B3 added p50 (ms)",
        kind,
        value: r.b3.addedP50,
        target: "≤ 2",
        met: r.b3.addedP50 <= 2,
      });
      targets.push({
        figure: "B3 added p99 (ms)",
        kind,
        value: r.b3.addedP99,
        target: "≤ 10",
        met: r.b3.addedP99 <= 10,
      });
      rows.push([
        `stub direct @${RATE}/s, alongside`,
        kind,
        fmt(r.b3.stubAlongside.rps),
        fmt(r.b3.stubAlongside.p50),
        fmt(r.b3.stubAlongside.p99),
        "",
        `evenly spaced, in the ${B3_SEGMENT_S} s segments between B3's: its floor`,
      ]);
      rows.push([
        `B3 deposit create @${RATE}/s`,
        kind,
        fmt(r.b3.rps),
        fmt(r.b3.p50),
        fmt(r.b3.p99),
        `${added(r.b3.addedP50)}/${added(r.b3.addedP99)} ms`,
        `evenly spaced; added p50 ≤ 2 ms, p99 ≤ 10 ms; ${cpuNote(r.b3)}; failed answers: ${r.b3.failedAnswers}`,
      ]);
      rows.push([
        `GET /healthz @${RATE}/s`,
        kind,
        fmt(r.b3.floor.rps),
        fmt(r.b3.floor.p50),
        fmt(r.b3.floor.p99),
        `${added(r.b3.floor.addedP50)}/${added(r.b3.floor.addedP99)} ms`,
        `evenly spaced; what a route that does nothing adds on this machine; ${cpuNote(r.b3.floor)}`,
      ]);
      rows.push([
        `B3 in autocannon bursts`,
        kind,
        fmt(r.b3.burst.rps),
        fmt(r.b3.burst.p50),
        fmt(r.b3.burst.p99),
        `${added(r.b3.burst.addedP50)}/${added(r.b3.burst.addedP99)} ms`,
        `${RATE} per second sent as one burst, 10 at a time; ${cpuNote(r.b3.burst)}`,
      ]);
    }
    if (r.b4) {
      targets.push({
        figure: "B4 p99 / B1 p99",
        kind,
        value: r.b4.p99RatioToB1,
        target: "≤ 1.3",
        met: r.b4.p99RatioToB1 <= 1.3,
      });
      targets.push({
        figure: "B4 peak RSS (MB)",
        kind,
        value: r.b4.peakRssMb,
        target: "< 250",
        met: r.b4.peakRssMb < 250,
      });
      rows.push([
        `B4 with ${(r.b4.ordersInDb / 1e6).toFixed(2)}M orders`,
        kind,
        fmt(r.b4.rps),
        fmt(r.b4.p50),
        fmt(r.b4.p99),
        fmt(ratio(r.b4.rps, baseline?.rps)),
        `p99 ${fmt(r.b4.p99RatioToB1)}× B1 (≤ 1.3); ${cpuNote(r.b4)}; ${r.b4.meanBatch} per batch; peak RSS ${fmt(r.b4.peakRssMb)} MB (< 250); verified=${r.b4.verified}`,
      ]);
      verified &&= r.b4.verified;
    }
  }
  const header = ["figure", "db", "rps", "p50 ms", "p99 ms", "× baseline", "notes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (c ?? "").padEnd(widths[i]!)).join(" | ")} |`;
  const table = [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    "",
    "targets:",
    ...targets.map(
      (t) =>
        `  ${t.met ? "MET   " : "MISSED"} ${t.figure} [${t.kind}] = ${fmt(t.value)} (target ${t.target})`,
    ),
    `all money checks verified: ${verified}`,
  ].join("\n");
  return {
    table,
    verified,
    json: {
      command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
      at: new Date().toISOString(),
      label: flags.label || undefined,
      seconds: round(x.seconds, 0),
      machine: x.m,
      settings: {
        mode: MODE,
        durationS: DURATION,
        warmupS: WARMUP,
        connections: CONNECTIONS,
        rate: RATE,
        growth: GROWTH,
        logLevel: "warn",
        dbPoolSize: flags.pool ?? "default (10)",
      },
      stubDirect,
      results,
      targets,
      verified,
    },
  };
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    killAll()
      .then(dropAll)
      .finally(() => process.exit(130));
  });
}
main().catch(async (err) => {
  console.error(err);
  await killAll();
  process.exit(1);
});
