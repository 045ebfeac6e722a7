import { useCallback, useEffect, useRef, useState } from "react";

/**
 * A small data-loading hook: runs `load` when `deps` change, keeps the last data while
 * reloading, and exposes `reload` for after a write. (Enough for these pages; no cache layer.)
 */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (mine === seq.current) {
        setData(value);
        setError(null);
      }
    } catch (err) {
      if (mine === seq.current) setError(err);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, []);

  // The caller's deps as one value (plain data: ids, filters, page numbers).
  const key = JSON.stringify(deps);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the caller's deps
  useEffect(() => {
    void run();
  }, [key, run]);

  return { data, error, loading, reload: run, setData };
}
