import type { AppContext } from "../../app-context.js";
import { sha256Hex } from "../../infra/crypto/hashing.js";

/**
 * The live streams (SSE) each session holds open in this process: at most
 * `cap` per session, a new one beyond it refused (429) rather than closing the oldest, since a
 * refused EventSource makes the portal fall back to polling while closing the oldest would make
 * two tabs' reconnects take turns evicting each other. A logout here ends the session's streams
 * at once; a session ended elsewhere (another process, expiry, a password change) is seen by the
 * stream's own re-check of the session on its next tick. With several processes the cap holds
 * per process, so one session holds at most cap × processes streams. One per AppContext
 * (app-context.ts), shared by the stream routes and logout; it holds an entry per session with
 * a stream open, each at most `cap` callbacks.
 */
export class SessionStreams {
  private readonly bySession = new Map<string, Set<() => void>>();

  constructor(private readonly cap: number) {}

  /** Takes a place for a stream of the session; `end` is called if the session ends. Null when full. */
  open(sessionHash: string, end: () => void): { release(): void } | null {
    let streams = this.bySession.get(sessionHash);
    if (!streams) {
      streams = new Set();
      this.bySession.set(sessionHash, streams);
    }
    if (streams.size >= this.cap) return null;
    streams.add(end);
    const held = streams;
    return {
      release: () => {
        held.delete(end);
        if (held.size === 0 && this.bySession.get(sessionHash) === held) this.bySession.delete(sessionHash);
      },
    };
  }

  /** Ends every stream of a session (logout). */
  endSession(sessionHash: string): void {
    for (const end of this.bySession.get(sessionHash) ?? []) end();
  }
}

/** Ends the streams of the session behind a cookie's secret (at logout). */
export function endSessionStreams(ctx: Pick<AppContext, "sessionStreams">, secret: string | undefined): void {
  if (secret) ctx.sessionStreams.endSession(sha256Hex(secret));
}
