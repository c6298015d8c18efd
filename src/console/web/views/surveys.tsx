import { useClient, useSubscription } from '@urql/preact';
import { useEffect, useState } from 'preact/hooks';
import { request } from '../api';
import { Badge, fmtDate, fmtUsd, Loading, Problem, Section, useAction, useData } from '../ui';

// Inspections and surveys: runs in progress, updated live over the WebSocket; recent events; surveys and their images that
// found no device, with a one-click assign to the nearest devices.
const INSPECTION_FIELDS = `id status capturedAt imageCount device { id name } cost { totalUsd screen { images } inspect { images } }
  workflowRuns { status progress { done total } } reviewTasks { id } anomalies(first: 1) { totalCount }`;
const INSPECTIONS = `{ inspections(first: 20) { nodes { ${INSPECTION_FIELDS} } }
  surveys(first: 10) { nodes { id name source createdAt imageCounts { total matched assigned unassigned pending } } } }`;
const LIVE_INSPECTION = `subscription($id: ID!) { inspectionUpdated(id: $id) { ${INSPECTION_FIELDS} } }`;
const UNASSIGNED = `{ unassignedImages(first: 20) { totalCount nodes { id filename thumbnailUrl latitude longitude deviceMatch survey { name } } } }`;
const NEAR = `query($n: NearInput!) { devices(first: 3, filter: { near: $n }) { nodes { id name type latitude longitude } } }`;

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

function Unassigned({ image, canAssign, onAssigned }: { image: any; canAssign: boolean; onAssigned(): void }) {
  const client = useClient();
  const [near, setNear] = useState<any[] | null>(null);
  const { run, busy, error } = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the candidates depend on the image only
  useEffect(() => {
    if (image.latitude == null) return setNear([]);
    request(client, NEAR, { n: { latitude: image.latitude, longitude: image.longitude, radiusKm: 2 } }).then(
      (d) => setNear(d.devices.nodes),
      () => setNear([]),
    );
  }, [image.id]);
  return (
    <li class="unassigned" data-testid="unassigned-image">
      {image.thumbnailUrl && <img src={image.thumbnailUrl} alt={`Unassigned: ${image.filename ?? image.id}`} width="96" height="72" />}
      <div>
        <strong>{image.filename ?? image.id}</strong> · {image.survey?.name} · <Badge value={image.deviceMatch} />
        <div class="actions">
          {near === null && <span class="muted">finding devices nearby…</span>}
          {near?.length === 0 && <span class="muted">no device within 2 km</span>}
          {canAssign &&
            near?.map((d) => (
              <button
                key={d.id}
                type="button"
                disabled={busy}
                onClick={async () =>
                  (await run('mutation($d: ID!, $i: ID!) { assignImage(deviceId: $d, imageId: $i) { id } }', { d: d.id, i: image.id })) &&
                  onAssigned()
                }
                data-testid="assign"
              >
                Assign to {d.name}
              </button>
            ))}
        </div>
        <Problem error={error} />
      </div>
    </li>
  );
}

export function SurveysView({ canAssign }: { canAssign: boolean }) {
  const { data, error } = useData(INSPECTIONS);
  const unassigned = useData(UNASSIGNED);
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
        {data && (
          <ul class="plain">
            {data.surveys.nodes.map((s: any) => (
              <li key={s.id}>
                <strong>{s.name}</strong> ({s.source.toLowerCase()}, {fmtDate(s.createdAt)}): {s.imageCounts.total} images,{' '}
                {s.imageCounts.matched + s.imageCounts.assigned} placed, {s.imageCounts.unassigned} unassigned, {s.imageCounts.pending}{' '}
                pending
              </li>
            ))}
            {!data.surveys.nodes.length && <li class="muted">No surveys.</li>}
          </ul>
        )}
      </Section>
      <Section title="Survey images without a device" id="unassigned">
        <Problem error={unassigned.error} />
        {unassigned.data && (
          <ul class="plain">
            {unassigned.data.unassignedImages.nodes.map((img: any) => (
              <Unassigned key={img.id} image={img} canAssign={canAssign} onAssigned={unassigned.reload} />
            ))}
            {!unassigned.data.unassignedImages.nodes.length && <li class="muted">Every survey image found its device.</li>}
          </ul>
        )}
      </Section>
    </div>
  );
}
