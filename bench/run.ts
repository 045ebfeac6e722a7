import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  killAll,
  type PsphubProcess,
  REPO_ROOT,
  type ServerMode,
  startPsphub,
} from "../tests/support/processes.js";
import {
  createScratchDatabase,
  type DbKind,
  dropAll,
  insertOrders,
  type ScratchDb,
  seed,
} from "../tests/support/seed.js";
import { runB1 } from "./b1-callbacks.js";
import { runB2 } from "./b2-duplicate-storm.js";
import { type Api1Stub, runB3, type StubDirect, startApi1Stub, stubDirectRun } from "./b3-deposit-create.js";
import { runB4 } from "./b4-growth.js";
import { runB5, WORKER_ENV } from "./b5-status-queries.js";
import { runB6 } from "./b6-webhooks.js";
import { runB7 } from "./b7-payout-callbacks.js";
import { baselineRun } from "./baseline.js";
import { buildServer } from "./lib/build.js";
import { log, round } from "./lib/figures.js";
import { PROFILE_DIR, printProfile } from "./lib/profile.js";
import { buildReport, type KindResults, machine } from "./lib/report.js";
import type { BenchTarget, Settings } from "./lib/settings.js";

const USAGE = `\`npm run bench\`: B1–B7 against a baseline measured in the same run.

  npm run bench                          everything (about 5 minutes on 2 cores)
  npm run bench -- --only b1 --db sqlite one benchmark on one database
  npm run bench -- --duration 3 --growth 100000   shorter runs
  npm run bench -- --profile             also write CPU profiles of the servers (B1–B3, B4)
  npm run bench -- --only b5 --b5-orders 1000 --b5-delay 10   B5 small
  npm run bench -- --only b1,b3 --worker  B1 and B3 with the API-3 worker running
  npm run bench -- --only b1,b7 --duration 5   API-2 and API-5 callbacks side by side

  B1 distinct callbacks (bench/b1-callbacks.ts)     B2 duplicate storm (bench/b2-duplicate-storm.ts)
  B3 deposit creation (bench/b3-deposit-create.ts)  B4 B1 on a grown table (bench/b4-growth.ts)
  B5 lost callbacks settled by API-3 status queries (bench/b5-status-queries.ts)
  B6 B1's load with two webhook endpoints, against none, and the delivery lag (bench/b6-webhooks.ts)
  B7 B1's method for API-5: distinct "paid" payout callbacks (bench/b7-payout-callbacks.ts)

Flags: --only b1,b2,b3,b4,b5,b6,b7  --db sqlite,postgres  --duration 10  --warmup 3  --growth 1000000
  --connections 64  --rate 200  --profile  --mode built|source  --pool N  --out FILE
  --label TEXT  --bundle path/psphub.js (run that build instead of building apps/server)
  --worker (B1–B4's server runs the API-3 worker, its integration has API-3 on)
  --b5-orders 10000  --b5-delay 60 (B5: orders, and the schedule's first delay in seconds)

Every server runs as a child process on 127.0.0.1 (the production bundle, built first into
bench/.build); every run is bounded in time and count. Results: a table on stdout and JSON in
bench/results/latest.json (or --out).`;

const { values: flags } = parseArgs({
  options: {
    only: { type: "string", default: "b1,b2,b3,b4,b5,b6,b7" },
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
    worker: { type: "boolean", default: false },
    "b5-orders": { type: "string", default: "10000" },
    "b5-delay": { type: "string", default: "60" },
    help: { type: "boolean", short: "h", default: false },
  },
});
const only = new Set(flags.only!.split(",").map((s) => s.trim().toLowerCase()));
const kinds = flags.db!.split(",").map((s) => s.trim()) as DbKind[];
const settings: Settings = {
  durationS: Number(flags.duration),
  warmupS: Number(flags.warmup),
  growth: Number(flags.growth),
  connections: Number(flags.connections),
  rate: Number(flags.rate),
  profile: flags.profile!,
  worker: flags.worker!,
  b5Orders: Number(flags["b5-orders"]),
  b5DelayS: Number(flags["b5-delay"]),
};
const MODE = flags.mode as ServerMode;

const serverEnv = (db: ScratchDb): Record<string, string> => ({
  ...db.env,
  HOST: "127.0.0.1",
  PORT: "0",
  PUBLIC_BASE_URL: "http://127.0.0.1:3000",
  LOG_LEVEL: "warn",
  EXPIRY_SWEEP_SECONDS: "0",
  ALLOW_PRIVATE_APP_URLS: "true",
  DEPOSIT_RATE_LIMIT_PER_MINUTE: "100000000",
  ...(flags.pool ? { DB_POOL_SIZE: flags.pool } : {}),
  // The API-3 worker runs only where asked (--worker, B5): B1–B4 measure without it by default.
  ...(settings.worker ? WORKER_ENV : { STATUS_QUERY_POLL_MS: "0" }),
});

/** Every benchmark asked for, on one fresh database: B1–B3 share a server, B4 starts its own. */
async function runKind(
  kind: DbKind,
  bundle: string | undefined,
  stub: (Api1Stub & { direct: StubDirect }) | undefined,
): Promise<KindResults> {
  const out: KindResults = {};
  // B5 runs on a database and server of its own.
  const b5 = () =>
    runB5(settings, kind, (b5db, env) =>
      startPsphub({ mode: MODE, env: { ...serverEnv(b5db), ...env }, ...(bundle ? { bundle } : {}) }),
    );
  // B6 too: three runs of B1's load on one server, webhooks off, on, off.
  const b6 = async () => {
    const b6db = await createScratchDatabase(kind, "b6");
    try {
      return await runB6(settings, kind, b6db, () =>
        startPsphub({ mode: MODE, env: serverEnv(b6db), ...(bundle ? { bundle } : {}) }),
      );
    } finally {
      await b6db.drop();
    }
  };
  // B7 too: API-5 callbacks against withdrawals of a database of its own, on a fresh server.
  const b7 = async () => {
    const b7db = await createScratchDatabase(kind, "b7");
    try {
      return await runB7(settings, kind, b7db, () =>
        startPsphub({ mode: MODE, env: serverEnv(b7db), ...(bundle ? { bundle } : {}) }),
      );
    } finally {
      await b7db.drop();
    }
  };
  if (!["b1", "b2", "b3", "b4", "b7"].some((b) => only.has(b))) {
    if (only.has("b5")) out.b5 = await b5();
    if (only.has("b6")) out.b6 = await b6();
    return out;
  }
  // The yardstick for this database's figures, measured right before them: the machine's load
  // changes over minutes, so a baseline from the start of the run would drift.
  if (only.has("b1") || only.has("b2") || only.has("b4") || only.has("b7")) {
    out.baseline = await baselineRun(settings);
    log(
      `${kind}: baseline ${out.baseline.rps}/s (${out.baseline.cpuUsPerReq} µs CPU each) p50 ${out.baseline.p50} ms p99 ${out.baseline.p99} ms`,
    );
  }
  if (!["b1", "b2", "b3", "b4"].some((b) => only.has(b))) {
    out.b7 = await b7();
    if (only.has("b5")) out.b5 = await b5();
    if (only.has("b6")) out.b6 = await b6();
    return out;
  }
  // B4 is judged against B1's p99.
  const needsB1 = only.has("b1") || only.has("b4");
  log(`${kind}: creating and seeding a fresh database`);
  const db = await createScratchDatabase(kind, "bench");
  let server: PsphubProcess | undefined;
  try {
    const s = await seed(db, { clients: 1_000, appUrl: stub?.url ?? "https://psp.example.com" });
    // --worker: API-3 on, so B3's orders get their first query scheduled (60 s on, after the run).
    if (settings.worker) await db.raw.exec("UPDATE psp_integrations SET status_query_enabled = 1");
    await insertOrders(db, s, { prefix: "w", count: 30_000, kind: "pending" });
    const target: BenchTarget = {
      settings,
      kind,
      db,
      seed: s,
      startServer: (nodeArgs) =>
        startPsphub({ mode: MODE, env: serverEnv(db), nodeArgs, ...(bundle ? { bundle } : {}) }),
    };

    const profileDir = join(PROFILE_DIR, `${kind}-b1`);
    if (flags.profile) mkdirSync(profileDir, { recursive: true });
    server = await target.startServer(flags.profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []);
    log(`${kind}: server pid ${server.pid} on ${server.url}`);

    if (needsB1) out.b1 = await runB1(target, server);
    if (only.has("b2")) out.b2 = await runB2(target, server);
    if (only.has("b3") && stub) out.b3 = await runB3(target, server, stub);

    const rss = server.peakRssMb();
    if (out.b1) out.b1.peakRssMb = round(rss, 1)!;
    await server.stop();
    server = undefined;
    if (flags.profile) out.profile = printProfile(profileDir, `${kind}-b1`, "warm-up, B1, B2 and B3");

    // Right after B1's server, the nearest in time to B1 and its baseline.
    if (only.has("b7")) out.b7 = await b7();

    if (only.has("b4")) {
      const r = await runB4(target, out.b1);
      out.b4 = r.b4;
      if (flags.profile) out.b4Profile = r.profile;
    }
    if (only.has("b5")) out.b5 = await b5();
    if (only.has("b6")) out.b6 = await b6();
  } finally {
    await server?.stop().catch(() => {});
    await db.drop();
  }
  return out;
}

async function main() {
  const started = Date.now();
  const m = machine();
  log(`machine: ${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, node ${m.node}`);
  let bundle = flags.bundle;
  if (MODE === "built" && !bundle) {
    log("building the server bundle (tsup) into bench/.build");
    bundle = buildServer();
  }
  const needsCallbacks = only.has("b1") || only.has("b2") || only.has("b4") || only.has("b7");
  const baseline = needsCallbacks ? await baselineRun(settings) : undefined;
  if (baseline)
    log(
      `baseline: ${baseline.rps}/s (${baseline.cpuUsPerReq} µs CPU each) p50 ${baseline.p50} ms p99 ${baseline.p99} ms`,
    );

  const stub = only.has("b3") ? await startApi1Stub() : undefined;
  const results: Partial<Record<DbKind, KindResults>> = {};
  let stubDirect: StubDirect | undefined;
  try {
    if (stub) {
      stubDirect = await stubDirectRun(settings, stub);
      log(
        `stub direct at ${settings.rate}/s evenly spaced: p50 ${stubDirect.p50} ms p99 ${stubDirect.p99} ms; ` +
          `in bursts: p50 ${stubDirect.burst.p50} ms p99 ${stubDirect.burst.p99} ms`,
      );
    }
    for (const kind of kinds) {
      results[kind] = await runKind(
        kind,
        bundle,
        stub && stubDirect ? { ...stub, direct: stubDirect } : undefined,
      );
    }
  } finally {
    await stub?.stop();
    await killAll();
  }

  const report = buildReport({
    m,
    settings,
    mode: MODE,
    pool: flags.pool,
    label: flags.label!,
    kinds,
    stubDirect,
    results,
    seconds: (Date.now() - started) / 1000,
  });
  console.log(`\n${report.table}`);
  mkdirSync(join(REPO_ROOT, "bench", "results"), { recursive: true });
  writeFileSync(flags.out!, `${JSON.stringify(report.json, null, 2)}\n`);
  log(`wrote ${flags.out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  process.exitCode = report.verified ? 0 : 1;
}

if (flags.help) {
  console.log(USAGE);
} else {
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
}
