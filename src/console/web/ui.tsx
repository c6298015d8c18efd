import { type ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { useClient } from '@urql/preact';
import { request } from './api';

// Small shared pieces: badges with colours that keep their contrast, loading and error lines, a data hook.
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export const DEVICE_STATUSES = ['NEEDS_ATTENTION', 'OK', 'UNKNOWN', 'DECOMMISSIONED'] as const;

export function Badge({ value, kind = 'status' }: { value: string | null | undefined; kind?: string }) {
  if (!value) return <span class="muted">—</span>;
  return <span class={`badge ${kind}-${value.toLowerCase()}`}>{value.replaceAll('_', ' ').toLowerCase()}</span>;
}

export function Problem({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={id ? `${id}-h` : undefined} data-testid={id}>
      <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
      {children}
    </section>
  );
}

/** Runs `query` now and whenever `deps` change; `reload()` runs it again. */
export function useData<T = any>(query: string, variables: Record<string, unknown> = {}, deps: unknown[] = []) {
  const client = useClient();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the query depends on
  useEffect(() => {
    let live = true;
    request<T>(client, query, variables).then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      },
      (err: Error) => live && setError(err.message),
    );
    return () => {
      live = false;
    };
  }, [client, tick, ...deps]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, reload };
}

/** A mutation runner that reports its error and whether it is busy. */
export function useAction() {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async <T = any>(query: string, variables: Record<string, unknown>): Promise<T | null> => {
      setBusy(true);
      setError(null);
      try {
        return await request<T>(client, query, variables, true);
      } catch (err) {
        setError((err as Error).message);
        return null;
      } finally {
        setBusy(false);
      }
    },
    [client],
  );
  return { run, busy, error, setError };
}

export const fmtDate = (iso: string | null | undefined) => (iso ? iso.slice(0, 16).replace('T', ' ') : '—');
export const fmtPct = (x: number | null | undefined) => (x == null ? '—' : `${(x * 100).toFixed(1)} %`);
export const fmtUsd = (x: number | null | undefined) =>
  x == null ? '—' : `${x < 0 ? '−' : ''}$${Math.abs(x).toFixed(Math.abs(x) < 1 ? 4 : 2)}`;

/** The labelled "Severity at least" filter: any, or one of SEVERITIES (the fleet's and the repair queue's). */
export function MinSeveritySelect({ value, onChange, testid }: { value: string; onChange(v: string): void; testid?: string }) {
  return (
    <label>
      Severity at least
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)} data-testid={testid}>
        <option value="">any</option>
        {SEVERITIES.map((s) => (
          <option key={s} value={s}>
            {s.toLowerCase()}
          </option>
        ))}
      </select>
    </label>
  );
}
