import { useClient, useSubscription } from '@urql/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { FleetMap, type MapPoint } from '../fleet-map';
import { distanceKm, FleetStore, rankOf } from '../fleet-store';
import { Badge, DEVICE_STATUSES, MinSeveritySelect, Problem } from '../ui';

// Fleet: map and list of every device, coloured by status and highest open severity, filtered in the browser.
const store = new FleetStore();
const PAGE = 50;
const SEV_RANK: Record<string, number> = { LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

const DEVICE_LIVE = 'subscription { deviceStatusChanged { id name externalId type status criticality latitude longitude } }';
const DEFECT_LIVE = 'subscription { defectChanged { id status severity device { id } } }';

interface Filters {
  type: string;
  status: string;
  severity: string;
  text: string;
  nearKm: number;
}

function useFleet() {
  const client = useClient();
  const [version, setVersion] = useState(store.version);
  useEffect(() => {
    const off = store.subscribe(() => setVersion(store.version));
    store.load(client);
    return off;
  }, [client]);
  useSubscription({ query: DEVICE_LIVE }, (_prev, data: any) => {
    store.upsertDevice(data.deviceStatusChanged);
    return data;
  });
  useSubscription({ query: DEFECT_LIVE }, (_prev, data: any) => {
    store.defectChanged(data.defectChanged);
    return data;
  });
  return version;
}

export function FleetView() {
  const version = useFleet();
  const [f, setF] = useState<Filters>({ type: '', status: '', severity: '', text: '', nearKm: 0 });
  const [here, setHere] = useState<{ lat: number; lon: number } | null>(null);
  const [hereError, setHereError] = useState<string | null>(null);
  const [page, setPage] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the store is mutable; its version says when it changed
  const worst = useMemo(() => store.worstSeverity(), [version]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: as above
  const types = useMemo(() => [...new Set([...store.devices.values()].map((d) => d.type))].sort(), [version]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: as above
  const rows = useMemo(() => {
    const text = f.text.trim().toLowerCase();
    const out: MapPoint[] = [];
    for (const device of store.devices.values()) {
      const sev = worst.get(device.id);
      if (f.type && device.type !== f.type) continue;
      if (f.status && device.status !== f.status) continue;
      if (f.severity && (!sev || SEV_RANK[sev] < SEV_RANK[f.severity])) continue;
      if (text && !`${device.name} ${device.externalId}`.toLowerCase().includes(text)) continue;
      if (here && f.nearKm > 0) {
        if (device.latitude == null || device.longitude == null) continue;
        if (distanceKm(here.lat, here.lon, device.latitude, device.longitude) > f.nearKm) continue;
      }
      out.push({ device, rank: rankOf(device.status, sev) });
    }
    return out.sort((a, b) => b.rank - a.rank || a.device.name.localeCompare(b.device.name));
  }, [version, worst, f, here]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new filter starts at the first page
  useEffect(() => setPage(0), [f, here]);
  const set = (patch: Partial<Filters>) => setF({ ...f, ...patch });
  const open = (id: string) => {
    location.hash = `#/device/${id}`;
  };

  function nearHere() {
    setHereError(null);
    if (!navigator.geolocation) return setHereError('This browser cannot tell where it is.');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        setHere({ lat: pos.coords.latitude, lon: pos.coords.longitude });
        if (!f.nearKm) set({ nearKm: 10 });
      },
      (err) => setHereError(`Position not available: ${err.message}`),
    );
  }

  const shown = rows.slice(page * PAGE, page * PAGE + PAGE);
  const ready = store.loaded || store.devices.size > 0;
  return (
    <div class="fleet">
      <h1 class="sr-only">Fleet</h1>
      <FilterForm f={f} set={set} types={types} near={!!here} nearHere={nearHere} />
      <Problem error={store.error ?? hereError} />
      <div class="fleet-body">
        <FleetMap points={rows} onOpen={open} onDrawn={() => ready && performance.mark('vigil:fleet-drawn')} />
        <DeviceList rows={shown} total={rows.length} page={page} setPage={setPage} worst={worst} ready={ready} loaded={store.loaded} />
      </div>
    </div>
  );
}

type FilterProps = { f: Filters; set(patch: Partial<Filters>): void; types: string[]; near: boolean; nearHere(): void };

function FilterForm({ f, set, types, near, nearHere }: FilterProps) {
  return (
    <form class="filters" aria-label="Filter the fleet" onSubmit={(e) => e.preventDefault()}>
      <label>
        Type
        <select value={f.type} onChange={(e) => set({ type: e.currentTarget.value })} data-testid="filter-type">
          <option value="">all</option>
          {types.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        Status
        <select value={f.status} onChange={(e) => set({ status: e.currentTarget.value })} data-testid="filter-status">
          <option value="">all</option>
          {DEVICE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ').toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <MinSeveritySelect value={f.severity} onChange={(severity) => set({ severity })} testid="filter-severity" />
      <label>
        Search
        <input type="search" value={f.text} onInput={(e) => set({ text: e.currentTarget.value })} data-testid="filter-text" />
      </label>
      <button type="button" onClick={nearHere} data-testid="near-here">
        Near here
      </button>
      {near && (
        <label>
          within km
          <input
            type="number"
            min="0"
            value={f.nearKm}
            onInput={(e) => set({ nearKm: Number(e.currentTarget.value) })}
            data-testid="near-km"
          />
        </label>
      )}
    </form>
  );
}

type ListProps = {
  rows: MapPoint[];
  total: number;
  page: number;
  setPage(n: number): void;
  worst: Map<string, string>;
  ready: boolean;
  loaded: boolean;
};

function DeviceList({ rows, total, page, setPage, worst, ready, loaded }: ListProps) {
  // Arrow keys move between the rows' links; Tab leaves the list.
  function onKey(e: KeyboardEvent) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...(e.currentTarget as HTMLElement).querySelectorAll<HTMLAnchorElement>('a.row-link')];
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = links[Math.max(0, Math.min(links.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      e.preventDefault();
      next.focus();
    }
  }
  const pages = Math.max(1, Math.ceil(total / PAGE));
  return (
    <div class="device-list" data-testid="device-list" data-state={loaded ? 'ready' : 'loading'}>
      <p aria-live="polite" data-testid="device-count">
        {ready ? `${total} devices${loaded ? '' : ' (loading more…)'}` : 'Loading the fleet…'}
      </p>
      <table onKeyDown={onKey}>
        <caption class="sr-only">Devices, most urgent first</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col" class="col-type">
              Type
            </th>
            <th scope="col">Status</th>
            <th scope="col">Severity</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ device }) => (
            <tr key={device.id} data-testid="device-row" data-id={device.id}>
              <td>
                <a class="row-link" href={`#/device/${device.id}`}>
                  {device.name}
                </a>
              </td>
              <td class="col-type">{device.type}</td>
              <td>
                <Badge value={device.status} />
              </td>
              <td>
                <Badge value={worst.get(device.id)} kind="sev" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages of the list">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <span>
          page {page + 1} of {pages}
        </span>
        <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
          Next
        </button>
      </nav>
    </div>
  );
}
