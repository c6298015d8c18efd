import { useClient, useSubscription } from '@urql/preact';
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api';
import { Badge, fmtDate, fmtUsd, Loading, Problem, Section, useAction, useData } from '../ui';

// Inspections and surveys: runs in progress, updated live over the WebSocket; recent events; surveys and their images that
// found no device, with a one-click assign to the nearest devices.
const INSPECTION_FIELDS = `id status capturedAt imageCount device { id name } cost { totalUsd screen { images } inspect { images } }
  workflowRuns { status progress { done total } } reviewTasks { id } anomalies(first: 1) { totalCount }`;
const INSPECTIONS = `{ inspections(first: 20) { nodes { ${INSPECTION_FIELDS} images(first: 1) { nodes { survey { id } } } } }
  surveys(first: 10) { nodes { id name source createdAt imageCounts { total matched assigned unassigned pending } } } }`;
const LIVE_INSPECTION = `subscription($id: ID!) { inspectionUpdated(id: $id) { ${INSPECTION_FIELDS} } }`;
const UNASSIGNED = `{ unassignedImages(first: 20) { totalCount nodes { id filename thumbnailUrl latitude longitude deviceMatch survey { name } } } }`;
// The API filters by distance but does not sort by it: ask at three radii and sort here, so the nearest come first.
const NEAR_RADII_KM = [0.1, 0.5, 2];
const NEAR = `query($a: NearInput!, $b: NearInput!, $c: NearInput!) {
  a: devices(first: 20, filter: { near: $a }) { nodes { ...C } } b: devices(first: 20, filter: { near: $b }) { nodes { ...C } }
  c: devices(first: 20, filter: { near: $c }) { nodes { ...C } } }
  fragment C on Device { id name type status latitude longitude }`;

/** Metres between two positions (haversine). */
function metres(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }) {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}
const fmtDistance = (m: number) => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);

function Progress({ ins: initial }: { ins: any }) {
  const [live] = useSubscription({
    query: LIVE_INSPECTION,
    variables: { id: initial.id },
    pause: initial.status === 'COMPLETED' || initial.status === 'FAILED',
  });
  const ins = live.data?.inspectionUpdated ?? initial;
  const run = ins.workflowRuns.at(-1);
  const flagged = ins.cost.inspect.images;
  return (
    <tr data-testid="inspection-row" data-id={ins.id} data-status={ins.status}>
      <td>
        <a href={`#/device/${ins.device.id}`}>{ins.device.name}</a>
        <div class="muted">{fmtDate(ins.capturedAt)}</div>
      </td>
      <td>
        <Badge value={ins.status} />
      </td>
      <td>
        {run ? (
          <progress max={run.progress.total || 1} value={run.progress.done} aria-label={`Images judged for ${ins.device.name}`} />
        ) : null}{' '}
        {run ? `${run.progress.done}/${run.progress.total}` : `0/${ins.imageCount}`}
      </td>
      <td>{flagged}</td>
      <td>{ins.reviewTasks.length}</td>
      <td>{ins.anomalies.totalCount}</td>
      <td>{run?.status === 'FAILED' ? 'failed' : '—'}</td>
      <td>{fmtUsd(ins.cost.totalUsd)}</td>
    </tr>
  );
}

const EVENTS = `subscription { workOrderChanged { id status device { name } } }`;
const EVENTS2 = `subscription { anomalyDetected { id type confidence device { name } } }`;
const EVENTS3 = `subscription { defectChanged { id type status severity device { name } } }`;

function LiveEvents() {
  const [events, setEvents] = useState<{ n: number; line: string }[]>([]);
  const on = (describe: (d: any) => string) => (_prev: unknown, d: any) => {
    setEvents((e) => [{ n: (e[0]?.n ?? 0) + 1, line: `${new Date().toISOString().slice(11, 19)} ${describe(d)}` }, ...e].slice(0, 12));
    return d;
  };
  useSubscription(
    { query: EVENTS },
    on((d) => `work order on ${d.workOrderChanged.device.name}: ${d.workOrderChanged.status.toLowerCase()}`),
  );
  useSubscription(
    { query: EVENTS2 },
    on((d) => `anomaly on ${d.anomalyDetected.device.name}: ${d.anomalyDetected.type}`),
  );
  useSubscription(
    { query: EVENTS3 },
    on((d) => `defect on ${d.defectChanged.device.name}: ${d.defectChanged.type} ${d.defectChanged.status.toLowerCase()}`),
  );
  return (
    <ul class="events" aria-live="polite" data-testid="live-events">
      {events.length ? events.map((e) => <li key={e.n}>{e.line}</li>) : <li class="muted">Waiting for events…</li>}
    </ul>
  );
}

function Unassigned({ image, canAssign, onAssigned }: { image: any; canAssign: boolean; onAssigned(device: any): void }) {
  const client = useClient();
  const [near, setNear] = useState<any[] | null>(null);
  const { run, busy, error } = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the candidates depend on the image only
  useEffect(() => {
    if (image.latitude == null) return setNear([]);
    const at = { latitude: image.latitude, longitude: image.longitude };
    const [a, b, c] = NEAR_RADII_KM.map((radiusKm) => ({ ...at, radiusKm }));
    request(client, NEAR, { a, b, c }).then(
      (d) => {
        const seen = new Map<string, any>();
        for (const dev of [...d.a.nodes, ...d.b.nodes, ...d.c.nodes])
          if (dev.status !== 'DECOMMISSIONED' && dev.latitude != null) seen.set(dev.id, { ...dev, metres: metres(at, dev) });
        setNear([...seen.values()].sort((x, y) => x.metres - y.metres).slice(0, 3));
      },
      () => setNear([]),
    );
  }, [image.id]);
  const name = image.filename ?? image.id;
  return (
    <li class="unassigned" data-testid="unassigned-image" data-id={image.id}>
      {image.thumbnailUrl && <img src={image.thumbnailUrl} alt={`Unassigned: ${name}`} width="96" height="72" />}
      <div>
        <strong>{name}</strong> · {image.survey?.name} · <Badge value={image.deviceMatch} />
        <div class="muted">
          {image.latitude != null ? `taken at ${image.latitude.toFixed(5)}, ${image.longitude.toFixed(5)}` : 'no position in the picture'}
        </div>
        <div class="actions">
          {near === null && <span class="muted">finding devices nearby…</span>}
          {near?.length === 0 && (
            <span class="muted">{image.latitude == null ? 'no candidates without a position' : 'no device within 2 km'}</span>
          )}
          {canAssign &&
            near?.map((d) => (
              <button
                key={d.id}
                type="button"
                disabled={busy}
                onClick={async () =>
                  (await run('mutation($d: ID!, $i: ID!) { assignImage(deviceId: $d, imageId: $i) { id } }', { d: d.id, i: image.id })) &&
                  onAssigned({ ...d, image: name })
                }
                data-testid="assign"
                data-device={d.id}
              >
                Assign to {d.name} · {fmtDistance(d.metres)}
              </button>
            ))}
        </div>
        <Problem error={error} />
      </div>
    </li>
  );
}

function SurveyRow({ survey: s, inspections }: { survey: any; inspections: any[] }) {
  const c = s.imageCounts;
  const placed = c.matched + c.assigned;
  const byStatus = new Map<string, number>();
  for (const ins of inspections) byStatus.set(ins.status, (byStatus.get(ins.status) ?? 0) + 1);
  return (
    <tr data-testid="survey-row" data-id={s.id}>
      <td>
        <strong>{s.name}</strong>
        <div class="muted">
          {s.source.toLowerCase()} · {fmtDate(s.createdAt)}
        </div>
      </td>
      <td data-label="Placed">
        <progress max={c.total || 1} value={placed} aria-label={`Images of ${s.name} placed on a device`} /> {placed}/{c.total}
      </td>
      <td data-label="By GPS">{c.matched}</td>
      <td data-label="By hand">{c.assigned}</td>
      <td data-label="Unassigned">{c.unassigned}</td>
      <td data-label="Pending">{c.pending}</td>
      <td data-testid="survey-inspections" data-label="Recent inspections">
        {inspections.length
          ? [...byStatus].map(([status, n]) => (
              <span key={status}>
                {n} <Badge value={status} />{' '}
              </span>
            ))
          : '—'}
      </td>
    </tr>
  );
}

export function SurveysView({ canAssign }: { canAssign: boolean }) {
  const { data, error, reload } = useData(INSPECTIONS);
  const unassigned = useData(UNASSIGNED);
  const [assigned, setAssigned] = useState<{ id: string; name: string; image: string } | null>(null);
  // Images still arriving: look again in a while, until every image of the listed surveys has arrived.
  const arriving = data?.surveys.nodes.some((s: any) => s.imageCounts.pending > 0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: each new answer starts the next wait
  useEffect(() => {
    if (!arriving) return;
    const timer = setTimeout(() => {
      reload();
      unassigned.reload();
    }, 5000);
    return () => clearTimeout(timer);
  }, [data, arriving, reload, unassigned.reload]);
  return (
    <div data-testid="surveys-view">
      <h1>Inspections and surveys</h1>
      <Section title="Live events" id="events">
        <LiveEvents />
      </Section>
      <Section title="Recent inspections" id="inspections">
        <Problem error={error} />
        {!data && !error && <Loading what="inspections" />}
        {data && (
          <div class="scroll-x">
            <table>
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Status</th>
                  <th scope="col">Judged</th>
                  <th scope="col">Flagged</th>
                  <th scope="col">To review</th>
                  <th scope="col">Anomalies</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {data.inspections.nodes.map((ins: any) => (
                  <Progress key={ins.id} ins={ins} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title="Surveys" id="surveys">
        {data &&
          (data.surveys.nodes.length ? (
            <div class="scroll-x">
              <table class="stack-sm">
                <thead>
                  <tr>
                    <th scope="col">Survey</th>
                    <th scope="col">Placed</th>
                    <th scope="col">By GPS</th>
                    <th scope="col">By hand</th>
                    <th scope="col">Unassigned</th>
                    <th scope="col">Pending</th>
                    <th scope="col">Recent inspections</th>
                  </tr>
                </thead>
                <tbody>
                  {data.surveys.nodes.map((s: any) => (
                    <SurveyRow
                      key={s.id}
                      survey={s}
                      inspections={data.inspections.nodes.filter((ins: any) => ins.images.nodes[0]?.survey?.id === s.id)}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p class="muted">No surveys.</p>
          ))}
      </Section>
      <Section title="Survey images without a device" id="unassigned">
        <Problem error={unassigned.error} />
        <p aria-live="polite" data-testid="assigned-note">
          {assigned && (
            <span>
              {assigned.image} now belongs to <a href={`#/device/${assigned.id}`}>{assigned.name}</a>.
            </span>
          )}
        </p>
        {unassigned.data && (
          <ul class="plain">
            {unassigned.data.unassignedImages.nodes.map((img: any) => (
              <Unassigned
                key={img.id}
                image={img}
                canAssign={canAssign}
                onAssigned={(device) => {
                  setAssigned(device);
                  unassigned.reload();
                  reload();
                }}
              />
            ))}
            {!unassigned.data.unassignedImages.nodes.length && <li class="muted">Every survey image found its device.</li>}
          </ul>
        )}
      </Section>
    </div>
  );
}
