import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { REPO_ROOT, type ServerMode } from "../../tests/support/processes.js";
import type { DbKind } from "../../tests/support/seed.js";
import type { B1Result } from "../b1-callbacks.js";
import { B2_ORDERS, type B2Result } from "../b2-duplicate-storm.js";
import { B3_SEGMENT_S, type B3Result, type StubDirect } from "../b3-deposit-create.js";
import type { B4Result } from "../b4-growth.js";
import type { B5Result } from "../b5-status-queries.js";
import type { B6Result } from "../b6-webhooks.js";
import type { B7Result } from "../b7-payout-callbacks.js";
import { cpuNote, type Figures, round } from "./figures.js";
import type { Settings } from "./settings.js";

/** The run's table on stdout and its JSON (bench/results/latest.json), with the targets met or missed. */

export type KindResults = {
  baseline?: Figures;
  b1?: B1Result;
  b2?: B2Result;
  b3?: B3Result;
  b4?: B4Result;
  b5?: B5Result;
  b6?: B6Result;
  b7?: B7Result;
  profile?: string;
  b4Profile?: string;
};

export function machine() {
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

type Target = { figure: string; kind: DbKind; value: number | null; target: string; met: boolean };

export function buildReport(x: {
  m: ReturnType<typeof machine>;
  settings: Settings;
  mode: ServerMode;
  /** DB_POOL_SIZE given with --pool. */
  pool: string | undefined;
  label: string;
  kinds: readonly DbKind[];
  stubDirect: StubDirect | undefined;
  results: Partial<Record<DbKind, KindResults>>;
  seconds: number;
}) {
  const { stubDirect, results, settings } = x;
  const RATE = settings.rate;
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
  for (const kind of x.kinds) {
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
    // B7 beside B1: the same load and baseline, API-5 against withdrawals instead of API-2.
    if (r.b7) {
      rows.push([
        "B7 distinct payout callbacks",
        kind,
        fmt(r.b7.rps),
        fmt(r.b7.p50),
        fmt(r.b7.p99),
        fmt(ratio(r.b7.rps, baseline?.rps)),
        `API-5 "paid", each debiting its own withdrawal; ${r.b1 ? `${fmt(ratio(r.b7.rps, r.b1.rps))}× B1's rate; ` : ""}p50 ${fmt(ratio(r.b7.p50, baseline?.p50))}×, p99 ${fmt(ratio(r.b7.p99, baseline?.p99))}× baseline; ${cpuNote(r.b7)}; peak RSS ${fmt(r.b7.peakRssMb)} MB; ${r.b7.answered204} × 204 of ${r.b7.payoutsReady} paying, ${r.b7.paid} paid verified=${r.b7.verified}`,
      ]);
      verified &&= r.b7.verified;
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
        `B3 converting, external rate`,
        kind,
        fmt(r.b3.fx.rps),
        fmt(r.b3.fx.p50),
        fmt(r.b3.fx.p99),
        `${added(r.b3.fx.addedP50)}/${added(r.b3.fx.addedP99)} ms`,
        `EUR into the USD wallet at a cached external rate, in segments between B3's; added is over B3's plain deposits; ${cpuNote(r.b3.fx)}`,
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
    if (r.b5) {
      targets.push({
        figure: "B5 settled / first delay",
        kind,
        value: r.b5.ratio,
        target: "≤ 1.1",
        met: r.b5.ratio <= 1.1,
      });
      rows.push([
        `B5 ${r.b5.orders} lost callbacks, API-3`,
        kind,
        "",
        "",
        "",
        "",
        `all settled ${fmt(r.b5.settledS)} s after API-1, first delay ${r.b5.firstDelayS} s (×${fmt(r.b5.ratio)}, ≤ 1.1); ${fmt(r.b5.queriesPerOrder)} queries per order; server CPU ${fmt(r.b5.serverCpuS)} s; verified=${r.b5.verified}`,
      ]);
      verified &&= r.b5.verified;
    }
    if (r.b6) {
      targets.push({
        figure: "B6 webhook delivery lag p99 (ms)",
        kind,
        value: r.b6.lagP99,
        target: "< 1000",
        met: r.b6.lagP99 < 1000,
      });
      rows.push([
        "B6 B1 with 2 webhook endpoints",
        kind,
        fmt(r.b6.onRps),
        "",
        "",
        "",
        `${fmt(r.b6.ratio)}× the rate without (${fmt(r.b6.offRps)}/s); callback p99 ${fmt(r.b6.onCallbackP99)} ms (${fmt(r.b6.offCallbackP99)} without); lag p50 ${fmt(r.b6.lagP50)} ms p99 ${fmt(r.b6.lagP99)} ms max ${fmt(r.b6.lagMax)} ms; at ${r.b6.pacedRate}/s evenly spaced lag p50 ${fmt(r.b6.pacedLagP50)} ms p99 ${fmt(r.b6.pacedLagP99)} ms; ${r.b6.deliveries} deliveries, ${r.b6.duplicates} duplicates; verified=${r.b6.verified}`,
      ]);
      verified &&= r.b6.verified;
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
      label: x.label || undefined,
      seconds: round(x.seconds, 0),
      machine: x.m,
      settings: {
        mode: x.mode,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        connections: settings.connections,
        rate: RATE,
        growth: settings.growth,
        logLevel: "warn",
        dbPoolSize: x.pool ?? "default (10)",
      },
      stubDirect,
      results,
      targets,
      verified,
    },
  };
}
