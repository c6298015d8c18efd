import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'preact/hooks';
import Supercluster from 'supercluster';
import { feature } from 'topojson-client';
import countriesUrl from 'world-atlas/countries-110m.json?url';
import { type FleetDevice, RANK_COLOUR, RANK_LABEL } from './fleet-store';
import { tileUrl } from './settings-store';

// The fleet on a Leaflet map drawn on one canvas: supercluster groups the devices per zoom, so 10,000 devices are a few
// hundred circles at most. The basemap is Natural Earth's country outlines (world-atlas, served by vigil itself), or
// the operator's own tile server when settings name one.
export interface MapPoint {
  device: FleetDevice;
  rank: number;
}

type Props = { points: MapPoint[]; onOpen(id: string): void; onDrawn?(): void };

async function addBasemap(map: L.Map) {
  const tiles = tileUrl();
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    return;
  }
  const topo = await (await fetch(countriesUrl)).json();
  const land = feature(topo, topo.objects.countries) as unknown as GeoJSON.FeatureCollection;
  L.geoJSON(land, {
    pane: 'basemap',
    interactive: false,
    style: { color: '#8c959f', weight: 0.8, fillColor: '#eef1f4', fillOpacity: 1 },
  }).addTo(map);
}

type MapState = { map: L.Map; layer: L.LayerGroup; renderer: L.Canvas; index?: Supercluster; fitted: boolean };

/** The clusters and devices in view, one circle each on the shared canvas. */
function drawClusters(s: MapState, open: (id: string) => void) {
  const index = s.index!;
  const b = s.map.getBounds();
  const zoom = Math.round(s.map.getZoom());
  const clusters = index.getClusters(
    [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())],
    zoom,
  );
  s.layer.clearLayers();
  for (const c of clusters) {
    const [lon, lat] = c.geometry.coordinates;
    const p = c.properties as { cluster?: boolean; point_count?: number; cluster_id?: number; worst: number; id?: string; name?: string };
    const count = p.cluster ? (p.point_count ?? 1) : 1;
    const marker = L.circleMarker([lat, lon], {
      renderer: s.renderer,
      radius: p.cluster ? Math.min(16, 6 + Math.log2(count) * 1.2) : 5,
      color: '#ffffff',
      weight: 1.5,
      fillColor: RANK_COLOUR[p.worst],
      fillOpacity: 0.9,
    });
    if (p.cluster) {
      marker.bindTooltip(`${count} devices, worst: ${RANK_LABEL[p.worst]}`);
      marker.on('click', () => s.map.setView([lat, lon], Math.min(18, index.getClusterExpansionZoom(p.cluster_id!))));
    } else {
      marker.bindTooltip(`${p.name} (${RANK_LABEL[p.worst]})`);
      marker.on('click', () => open(p.id!));
    }
    s.layer.addLayer(marker);
  }
}

export function FleetMap({ points, onOpen, onDrawn }: Props) {
  const holder = useRef<HTMLDivElement>(null);
  const state = useRef<MapState | null>(null);
  const openRef = useRef(onOpen);
  openRef.current = onOpen;
  const drawnRef = useRef(onDrawn);
  drawnRef.current = onDrawn;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the map is made once; draw reads the latest state through refs
  useEffect(() => {
    const renderer = L.canvas({ padding: 0.2 });
    const map = L.map(holder.current!, { renderer, preferCanvas: true, attributionControl: false, worldCopyJump: true, minZoom: 2 });
    // The outlines get a pane (and canvas) of their own under the devices' canvas.
    map.createPane('basemap').style.zIndex = '250';
    map.setView([30, 0], 2);
    map.getContainer().setAttribute('aria-label', 'Map of the fleet; use the list beside it to reach each device by keyboard');
    const layer = L.layerGroup().addTo(map);
    state.current = { map, layer, renderer, fitted: false };
    addBasemap(map).catch(() => undefined);
    map.on('moveend', () => draw());
    return () => {
      map.remove();
      state.current = null;
    };
  }, []);

  function draw() {
    if (!state.current?.index) return;
    drawClusters(state.current, (id) => openRef.current(id));
    drawnRef.current?.();
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the index is rebuilt when the points change, nothing else
  useEffect(() => {
    const s = state.current;
    if (!s) return;
    const index = new Supercluster<{ worst: number; id: string; name: string }, { worst: number }>({
      radius: 60,
      maxZoom: 16,
      map: (p) => ({ worst: p.worst }),
      reduce: (acc, p) => {
        acc.worst = Math.max(acc.worst, p.worst);
      },
    });
    const located = points.filter((p) => p.device.latitude != null && p.device.longitude != null);
    index.load(
      located.map((p) => ({
        type: 'Feature' as const,
        geometry: { type: 'Point' as const, coordinates: [p.device.longitude!, p.device.latitude!] },
        properties: { worst: p.rank, id: p.device.id, name: p.device.name },
      })),
    );
    s.index = index;
    if (!s.fitted && located.length) {
      s.fitted = true;
      const bounds = L.latLngBounds(located.map((p) => [p.device.latitude!, p.device.longitude!] as [number, number]));
      s.map.fitBounds(bounds.pad(0.1), { maxZoom: 14, animate: false });
    }
    draw();
  }, [points]);

  return (
    <div class="map-wrap">
      <div ref={holder} class="map" data-testid="fleet-map" />
      <ul class="legend" aria-label="Map colours">
        {RANK_LABEL.map((label, i) => (
          <li key={label}>
            <span class={`dot rank-${i}`} aria-hidden="true" />
            {label}
          </li>
        ))}
      </ul>
    </div>
  );
}
