import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Child processes for benchmarks and reliability tests: the psphub server (built bundle or
 * TypeScript source), and small node scripts (baseline server, API-1 stub). Every child listens
 * on loopback only; every helper has a bounded wait and a way to stop it.
 */

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type ServerMode =
  /** `node <bundle> serve`: a production bundle (tsup, as `npm run build`). */
  | "built"
  /** `node --conditions=source --import tsx apps/server/src/psphub.ts serve`. */
  | "source";

/** A free TCP port on 127.0.0.1 (bound and released; a restart can reuse it for a fixed URL). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export type Child = {
  proc: ChildProcess;
  pid: number;
  /** Every line the child wrote (stdout and stderr), when `keepOutput`; else the last 200. */
  output: string[];
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMb(): number;
  /** CPU time used so far (user + system), in ms: divided by requests, a figure noise barely moves. */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when gone. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9: no shutdown at all. Resolves when gone. */
  kill9(): Promise<void>;
};

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * user + system CPU of a process from its /proc/<pid>/stat text, ms; with `reaped`, plus that of
 * its children that have exited and been waited for.
 */
export function statCpuMs(stat: string, reaped = false): number {
  // Fields after the command name (which may hold spaces): utime, stime, cutime and cstime are
  // fields 14–17.
  const f = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .slice(11, 15)
    .map(Number);
  const ticks = (f[0] ?? 0) + (f[1] ?? 0) + (reaped ? (f[2] ?? 0) + (f[3] ?? 0) : 0);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** Every child that is still running, so a crashed harness can still kill them (see killAll). */
const live = new Set<Child>();

function wrap(proc: ChildProcess, keepOutput: boolean, onLine?: (line: string) => void): Child {
  const output: string[] = [];
  let pending = "";
  const onData = (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      output.push(line);
      if (!keepOutput && output.length > 200) output.shift();
      onLine?.(line);
      nl = pending.indexOf("\n");
    }
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      if (pending) output.push(pending);
      live.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
  });
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  const child: Child = {
    proc,
    pid: proc.pid ?? -1,
    output,
    exited,
    peakRssMb() {
      try {
        const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
        const m = /VmHWM:\s+(\d+)\s+kB/.exec(status);
        return m ? Number(m[1]) / 1024 : Number.NaN;
      } catch {
        return Number.NaN;
      }
    },
    cpuMs() {
      try {
        return statCpuMs(readFileSync(`/proc/${proc.pid}/stat`, "utf8"));
      } catch {
        return Number.NaN;
      }
    },
    async stop(graceMs = 10_000) {
      if (gone()) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (gone()) return;
      proc.kill("SIGKILL");
      await exited;
    },
  };
  live.add(child);
  return child;
}

/** Kills every child this process started and that still runs (for afterAll and exit handlers). */
export async function killAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill9()));
}

/** Waits until a line matches, the child exits, or the time is up. */
function waitForLine(child: Child, re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const line of child.output) {
        const m = re.exec(line);
        if (m) return m;
      }
      return null;
    };
    const found = check();
    if (found) return resolve(found);
    const onData = () => {
      const m = check();
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${child.output.join("\n")}`));
    }, timeoutMs);
    const onExit = () => {
      // Let the last chunks of output arrive before deciding.
      setImmediate(() => {
        const m = check();
        cleanup();
        if (m) resolve(m);
        else reject(new Error(`${what} exited before listening:\n${child.output.join("\n")}`));
      });
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.proc.stdout?.off("data", onData);
      child.proc.stderr?.off("data", onData);
      child.proc.off("exit", onExit);
    };
    // Registered after wrap()'s own listener, so the line is already in `output`.
    child.proc.stdout?.on("data", onData);
    child.proc.stderr?.on("data", onData);
    child.proc.once("exit", onExit);
  });
}

export type PsphubProcess = Child & { url: string };

export type StartPsphubOptions = {
  mode: ServerMode;
  /** The server's environment (config.ts); PATH is added, nothing else is inherited. */
  env: Record<string, string>;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=…"]. */
  nodeArgs?: string[];
  /** The built bundle to run in "built" mode (the bench builds its own: bench/lib/build.ts). */
  bundle?: string;
  /** Keep every output line (for "the token never appears in a log line" checks). */
  keepOutput?: boolean;
  startTimeoutMs?: number;
};

function bundleOf(opts: StartPsphubOptions): string {
  if (!opts.bundle) throw new Error('startPsphub: mode "built" needs the bundle to run');
  return opts.bundle;
}

/** Starts `psphub serve` as a child and waits for its "psphub listening on <url>" line. */
export async function startPsphub(opts: StartPsphubOptions): Promise<PsphubProcess> {
  const args =
    opts.mode === "built"
      ? [...(opts.nodeArgs ?? []), bundleOf(opts), "serve"]
      : [
          ...(opts.nodeArgs ?? []),
          "--conditions=source",
          "--import",
          "tsx",
          join(REPO_ROOT, "apps/server/src/psphub.ts"),
          "serve",
        ];
  const proc = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = wrap(proc, opts.keepOutput ?? false);
  try {
    const m = await waitForLine(
      child,
      /psphub listening on (http:\/\/\S+)/,
      opts.startTimeoutMs ?? 60_000,
      "psphub serve",
    );
    return Object.assign(child, { url: m[1]! });
  } catch (err) {
    await child.kill9();
    throw err;
  }
}

/**
 * Starts a node script (TypeScript through tsx) that prints `listening <url>` once ready.
 * Used for the baseline server and the API-1 stub, so neither shares an event loop with the
 * load generator.
 */
export async function startScript(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Child & { url: string }> {
  const proc = spawn(process.execPath, ["--conditions=source", "--import", "tsx", script, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = wrap(proc, false);
  try {
    const m = await waitForLine(child, /^listening (http:\/\/\S+)/, 30_000, script);
    return Object.assign(child, { url: m[1]! });
  } catch (err) {
    await child.kill9();
    throw err;
  }
}
