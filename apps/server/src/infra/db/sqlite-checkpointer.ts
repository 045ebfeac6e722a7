import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * WAL checkpoints of a SQLite file, in a worker thread with its own connection.
 *
 * better-sqlite3 runs SQL on the event loop's thread. With SQLite's automatic checkpoints, the
 * commit that crosses `wal_autocheckpoint` copies the WAL into the database file and fsyncs it
 * before it returns: the whole server stalls for that fsync (tens of ms on a shared disk), and
 * every request in flight waits. Bench B3 (SQLite, 200 deposits/s evenly spaced): p99 64 ms with
 * automatic checkpoints, 24–31 ms without them, alternating builds in one window.
 *
 * Here a worker runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`: PASSIVE never waits
 * for readers or writers (it copies what no reader still needs; the next round copies the rest),
 * and its fsync blocks only the worker. The next writer after a complete checkpoint starts the
 * WAL from its beginning again, so the file stops growing. The server's own connection keeps a
 * high `wal_autocheckpoint` as a backstop should the worker ever fall behind or die (see
 * `openDatabase`). Crash safety does not change: a commit is in the WAL before it returns, with
 * or without checkpoints.
 */
export interface SqliteCheckpointer {
  /** Resolves once the worker has closed its connection and exited. */
  stop(): Promise<void>;
}

export type CheckpointResult = { busy: number; log: number; checkpointed: number };

export type CheckpointerOptions = {
  /** Between two checkpoints (default 500 ms). */
  intervalMs?: number;
  /** Told every checkpoint that found frames in the WAL (tests, metrics). */
  onCheckpoint?: (r: CheckpointResult) => void;
  /** Told when a checkpoint or the worker fails; the backstop then keeps the WAL bounded. */
  onError?: (err: Error) => void;
};

// CommonJS, evaluated in the worker: the module path comes from the parent, so it resolves the
// same better-sqlite3 wherever the server is started from.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file);
db.pragma("busy_timeout = 0");
db.pragma("cache_size = -256");
const checkpoint = () => {
  try {
    const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
    if (workerData.report && r && r.log > 0) parentPort.postMessage({ type: "checkpoint", result: r });
  } catch (err) {
    parentPort.postMessage({ type: "error", message: String(err && err.message || err) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (m) => {
  if (m !== "stop") return;
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export function startSqliteCheckpointer(file: string, opts: CheckpointerOptions = {}): SqliteCheckpointer {
  const require = createRequire(import.meta.url);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      file,
      module: require.resolve("better-sqlite3"),
      intervalMs: opts.intervalMs ?? 500,
      // A message per checkpoint only for a listener.
      report: opts.onCheckpoint !== undefined,
    },
    // It holds one connection and a timer. The limits do not shrink its ≈ 10 MB (measured: a V8
    // isolate's own cost), they stop a fault in it from growing the server's memory.
    resourceLimits: {
      maxOldGenerationSizeMb: 8,
      maxYoungGenerationSizeMb: 1,
      codeRangeSizeMb: 4,
      stackSizeMb: 1,
    },
  });
  // Never keeps the process alive on its own; stop() is what closes it cleanly.
  worker.unref();
  worker.on("message", (m: { type: string; result?: CheckpointResult; message?: string }) => {
    if (m.type === "checkpoint" && m.result) opts.onCheckpoint?.(m.result);
    else if (m.type === "error") opts.onError?.(new Error(`WAL checkpoint failed: ${m.message}`));
  });
  worker.on("error", (err) => opts.onError?.(err));
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        // Referenced again, or the process could end while it waits for the worker's exit
        // (once the server has closed, nothing else keeps the event loop alive).
        worker.ref();
        worker.postMessage("stop");
        const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5_000).unref());
        if ((await Promise.race([exited, timeout])) === "timeout") await worker.terminate();
      })();
      return stopping;
    },
  };
}
