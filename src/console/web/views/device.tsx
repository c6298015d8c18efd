import { useClient } from '@urql/preact';
import { useState } from 'preact/hooks';
import { download, request } from '../api';
import { Badge, fmtDate, fmtPct, fmtUsd, Loading, Problem, Section, useData } from '../ui';
import { WorkOrderList } from './work-orders';

// One device: its inspections (photos with the model's boxes and heatmaps, reviewers' decisions), defects with their
// history and growth, and its work orders.
const DEVICE = `query($id: ID!) {
  device(id: $id) { id name externalId type status criticality latitude longitude openAnomalyCount
    inspections(first: 10) { nodes { id capturedAt status source imageCount cost { totalUsd }
      images(first: 6) { nodes { id url width height filename
        anomalies(first: 10) { nodes { id type confidence severity status box { x y width height } } } } }
      reviewTasks { id status verdict reason image { id }
        modelOutput { confidence isAnomalous heatmaps { url frame { x y width height } } }
        answers { reviewer verdict comment createdAt } } } } }
  defects(first: 50, filter: { deviceId: $id }) { nodes { id type status severity confidence growth firstArea lastArea
    firstSeenAt lastSeenAt observationCount reopenCount resolution
    observations(first: 10) { nodes { id confidence createdAt box { width height } inspection { capturedAt } } } } } }`;

type Box = { x: number; y: number; width: number; height: number };
const boxStyle = (b: Box) => ({ left: `${b.x * 100}%`, top: `${b.y * 100}%`, width: `${b.width * 100}%`, height: `${b.height * 100}%` });

function Photo({ image, task }: { image: any; task: any }) {
  const [heat, setHeat] = useState(false);
  const heatmaps = task?.modelOutput?.heatmaps ?? [];
  if (!image.url) return <p class="muted">{image.filename ?? image.id}: no picture</p>;
  return (
    <figure class="photo" data-testid="photo">
      <div class="photo-frame">
        <img
          src={image.url}
          alt={`${image.filename ?? image.id} with ${image.anomalies.nodes.length} marked anomalies`}
          width={image.width ?? undefined}
          height={image.height ?? undefined}
        />
        {heat &&
          heatmaps.map((h: any) => <img key={h.url} class="heatmap" src={h.url} alt="" style={boxStyle(h.frame)} data-testid="heatmap" />)}
        {image.anomalies.nodes.map((a: any) => (
          <span key={a.id} class={`box sev-${(a.severity ?? 'none').toLowerCase()}`} style={boxStyle(a.box)} data-testid="anomaly-box">
            <span class="box-label">
              {a.type} {fmtPct(a.confidence)}
            </span>
          </span>
        ))}
      </div>
      <figcaption>
        {image.anomalies.nodes.length} anomalies
        {heatmaps.length > 0 && (
          <button type="button" aria-pressed={heat} onClick={() => setHeat(!heat)} data-testid="heatmap-toggle">
            Heatmap
          </button>
        )}
        {task && (
          <span>
            {' '}
            Review ({task.reason.toLowerCase().replace('_', ' ')}): <Badge value={task.verdict ?? task.status} />
            {task.answers.map((a: any) => (
              <span key={a.createdAt} class="muted">
                {' '}
                {a.reviewer}: {a.verdict.toLowerCase()}
                {a.comment ? ` “${a.comment}”` : ''}
              </span>
            ))}
          </span>
        )}
      </figcaption>
    </figure>
  );
}

function Inspection({ ins }: { ins: any }) {
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  const taskOf = (imageId: string) => ins.reviewTasks.find((t: any) => t.image.id === imageId);
  async function report() {
    try {
      const data = await request(
        client,
        'mutation($id: ID!) { createInspectionReport(inspectionId: $id, format: PDF) { url } }',
        { id: ins.id },
        true,
      );
      download(data.createInspectionReport.url);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <li class="timeline-item" data-testid="inspection">
      <h3>
        {fmtDate(ins.capturedAt)} · {ins.source.toLowerCase()} · <Badge value={ins.status} /> · {ins.imageCount} images ·{' '}
        {fmtUsd(ins.cost.totalUsd)}
        {ins.status === 'COMPLETED' && (
          <button type="button" class="link" onClick={report} data-testid="report-pdf">
            Report (PDF)
          </button>
        )}
      </h3>
      <Problem error={error} />
      <div class="photos">
        {ins.images.nodes.map((img: any) => (
          <Photo key={img.id} image={img} task={taskOf(img.id)} />
        ))}
      </div>
    </li>
  );
}

function Defects({ defects }: { defects: any[] }) {
  if (!defects.length) return <p class="muted">No defects.</p>;
  return (
    <table data-testid="defects" class="stack-sm">
      <thead>
        <tr>
          <th scope="col">Defect</th>
          <th scope="col">Severity</th>
          <th scope="col">Status</th>
          <th scope="col">Seen</th>
          <th scope="col">Growth</th>
          <th scope="col">History (area per survey)</th>
        </tr>
      </thead>
      <tbody>
        {defects.map((d) => (
          <tr key={d.id}>
            <td>{d.type}</td>
            <td>
              <Badge value={d.severity} kind="sev" />
            </td>
            <td>
              <Badge value={d.status} />
              {d.reopenCount > 0 && <span class="muted"> reopened {d.reopenCount}×</span>}
            </td>
            <td>
              {fmtDate(d.firstSeenAt)} → {fmtDate(d.lastSeenAt)} ({d.observationCount}×)
            </td>
            <td>
              ×{d.growth.toFixed(2)} ({(d.firstArea * 100).toFixed(1)} % → {(d.lastArea * 100).toFixed(1)} % of the image)
            </td>
            <td>
              {[...d.observations.nodes]
                .reverse()
                .map((o: any) => `${fmtDate(o.inspection.capturedAt).slice(0, 10)}: ${(o.box.width * o.box.height * 100).toFixed(1)} %`)
                .join(' → ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function DeviceView({ id, canPlan }: { id: string; canPlan: boolean }) {
  const { data, error } = useData(DEVICE, { id }, [id]);
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="the device" />;
  const d = data.device;
  return (
    <div class="device" data-testid="device-view">
      <h1>
        {d.name} <Badge value={d.status} />
      </h1>
      <p class="muted">
        {d.externalId} · {d.type} · criticality {d.criticality.toLowerCase()} ·{' '}
        {d.latitude != null ? `${d.latitude.toFixed(5)}, ${d.longitude.toFixed(5)}` : 'no position'} · {d.openAnomalyCount} open anomalies
      </p>
      <Section title="Defects" id="device-defects">
        <Defects defects={data.defects.nodes} />
      </Section>
      <Section title="Work orders" id="device-work-orders">
        <WorkOrderList deviceId={id} canPlan={canPlan} />
      </Section>
      <Section title="Inspections" id="device-inspections">
        {d.inspections.nodes.length ? (
          <ol class="timeline">
            {d.inspections.nodes.map((ins: any) => (
              <Inspection key={ins.id} ins={ins} />
            ))}
          </ol>
        ) : (
          <p class="muted">No inspections yet.</p>
        )}
      </Section>
    </div>
  );
}
