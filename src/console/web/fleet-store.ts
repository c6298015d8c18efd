import { type Client } from '@urql/core';
import { allPages, request } from './api';

// The whole fleet in the browser: the map clusters it and the list filters it without a round trip; live events keep it
// current. It arrives as the devices' GeoJSON export (one request, streamed, one feature per line, with each device's open
// defects), drawn as it comes; GraphQL pages are the fallback.
export interface FleetDevice {
  id: string;
  name: string;
  externalId: string;
  type: string;
  status: string;
  criticality: string;
  latitude: number | null;
  longitude: number | null;
}

const SEVERITY_RANK: Record<string, number> = { LOW: 4, MEDIUM: 5, HIGH: 6, CRITICAL: 7 };
const STATUS_RANK: Record<string, number> = { DECOMMISSIONED: 0, OK: 1, UNKNOWN: 2, NEEDS_ATTENTION: 3 };
/** Colour per rank: status first, then the highest open severity (checked for contrast on the light map). */
export const RANK_COLOUR = ['#4d4d4d', '#1a7f37', '#6e7781', '#9a6700', '#b08800', '#d4570e', '#cf222e', '#82071e'];
export const RANK_LABEL = ['decommissioned', 'ok', 'unknown', 'needs attention', 'low', 'medium', 'high', 'critical'];

const DEVICES = `query($after: String) { devices(first: 500, after: $after) {
  nodes { id name externalId type status criticality latitude longitude } pageInfo { hasNextPage endCursor } } }`;
const OPEN_DEFECTS = `query($after: String) { defects(first: 500, after: $after, filter: { status: [OPEN] }) {
  nodes { id severity device { id } } pageInfo { hasNextPage endCursor } } }`;

export class FleetStore {
  devices = new Map<string, FleetDevice>();
  /** Open defects: id → device and severity. */
  defects = new Map<string, { deviceId: string; severity: string }>();
  loaded = false;
  error: string | null = null;
  version = 0;
  private listeners = new Set<() => void>();
  private loading: Promise<void> | null = null;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  load(client: Client): Promise<void> {
    this.loading ??= this.fromExport(client)
      .catch(() => this.fromPages(client))
      .then(
        () => {
          this.loaded = true;
          this.changed();
        },
        (err: Error) => {
          this.error = err.message;
          this.changed();
        },
      );
    return this.loading;
  }

  /** Redraws after the first devices and then at most every 400 ms while more arrive. */
  private throttled() {
    let last = 0;
    return () => {
      if (last > 0 && performance.now() - last < 400) return;
      last = performance.now();
      this.changed();
    };
  }

  private async fromExport(client: Client): Promise<void> {
    const link = await request(client, 'mutation { createExport(input: { kind: DEVICES_GEOJSON }) { url } }', {}, true);
    const res = await fetch(link.createExport.url);
    if (!res.ok || !res.body) throw new Error(`the fleet export answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const draw = this.throttled();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const lines = (rest + value).split('\n');
      rest = lines.pop() ?? '';
      let added = 0;
      for (const line of lines) {
        if (!line.startsWith('{"type":"Feature"')) continue;
        this.addFeature(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line));
        added++;
      }
      if (added) draw();
    }
  }

  private addFeature(f: { id: string; geometry: { coordinates: [number, number] } | null; properties: any }): void {
    const p = f.properties;
    const [longitude, latitude] = f.geometry?.coordinates ?? [null, null];
    this.devices.set(f.id, {
      id: f.id,
      name: p.name,
      externalId: p.externalId,
      type: p.type,
      status: p.status,
      criticality: p.criticality,
      latitude,
      longitude,
    });
    for (const d of p.openDefects as { id: string; severity: string }[]) this.defects.set(d.id, { deviceId: f.id, severity: d.severity });
  }

  private async fromPages(client: Client): Promise<void> {
    const draw = this.throttled();
    await Promise.all([
      allPages<FleetDevice>(client, DEVICES, 'devices', {}, (nodes) => {
        for (const d of nodes) this.devices.set(d.id, d);
        if (nodes.length) draw();
      }),
      allPages<{ id: string; severity: string; device: { id: string } }>(client, OPEN_DEFECTS, 'defects', {}, (nodes) => {
        for (const d of nodes) this.defects.set(d.id, { deviceId: d.device.id, severity: d.severity });
      }),
    ]);
  }

  /** The highest severity of each device's open defects. */
  worstSeverity(): Map<string, string> {
    const worst = new Map<string, string>();
    for (const { deviceId, severity } of this.defects.values()) {
      const known = worst.get(deviceId);
      if (!known || SEVERITY_RANK[severity] > SEVERITY_RANK[known]) worst.set(deviceId, severity);
    }
    return worst;
  }

  upsertDevice(d: Partial<FleetDevice> & { id: string }): void {
    const known = this.devices.get(d.id);
    this.devices.set(d.id, { ...(known as FleetDevice), ...d });
    this.changed();
  }

  defectChanged(d: { id: string; status: string; severity: string; device: { id: string } }): void {
    if (d.status === 'OPEN') this.defects.set(d.id, { deviceId: d.device.id, severity: d.severity });
    else this.defects.delete(d.id);
    this.changed();
  }
}

export function rankOf(status: string, severity: string | undefined): number {
  return Math.max(STATUS_RANK[status] ?? 2, severity ? SEVERITY_RANK[severity] : 0);
}

/** Great-circle distance in km. */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 12742 * Math.asin(Math.sqrt(a));
}
