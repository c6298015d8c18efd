import { useClient } from '@urql/preact';
import { useState } from 'preact/hooks';
import { download, request } from '../api';
import { Badge, fmtDate, fmtPct, Loading, MinSeveritySelect, Problem, Section, useAction, useData } from '../ui';
import { WorkOrderList } from './work-orders';

// The repair queue (open defects, riskiest first, with the reasons), planning work orders from it, and the exports.
const QUEUE = `query($f: RepairQueueFilter) { repairQueue(first: 50, filter: $f) { totalCount nodes { score reasons
  defect { id type severity confidence growth lastSeenAt device { id name type } workOrders { id status } } } } }`;
const CREATE = `mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { id status } }`;
const EXPORTS = [
  ['DEVICES_GEOJSON', 'Devices (GeoJSON)'],
  ['DEVICES_KML', 'Devices (KML)'],
  ['DEFECTS_CSV', 'Defects (CSV)'],
  ['WORK_ORDERS_CSV', 'Work orders (CSV)'],
] as const;

function Exports() {
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  async function get(kind: string) {
    setError(null);
    try {
      const data = await request(client, 'mutation($i: CreateExportInput!) { createExport(input: $i) { url } }', { i: { kind } }, true);
      download(data.createExport.url);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <div class="actions">
      {EXPORTS.map(([kind, label]) => (
        <button key={kind} type="button" class="secondary" onClick={() => get(kind)} data-testid={`export-${kind}`}>
          {label}
        </button>
      ))}
      <Problem error={error} />
    </div>
  );
}

function PlanForm({ picked, onPlanned }: { picked: any[]; onPlanned(): void }) {
  const { run, busy, error, setError } = useAction();
  const [priority, setPriority] = useState('NORMAL');
  const [assignee, setAssignee] = useState('');
  const [due, setDue] = useState('');
  async function submit(e: Event) {
    e.preventDefault();
    if (new Set(picked.map((p) => p.defect.device.id)).size > 1)
      return setError('A work order covers the defects of one device: pick defects of one device.');
    const input = {
      defectIds: picked.map((p) => p.defect.id),
      priority,
      assignee: assignee || null,
      dueAt: due ? `${due}T12:00:00Z` : null,
    };
    if (await run(CREATE, { i: input })) onPlanned();
  }
  return (
    <form class="plan" onSubmit={submit} aria-label="Plan a work order" data-testid="plan-form">
      <span>{picked.length} defects picked</span>
      <label>
        Priority
        <select value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
          {['LOW', 'NORMAL', 'HIGH', 'URGENT'].map((p) => (
            <option key={p} value={p}>
              {p.toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        Assignee
        <input value={assignee} onInput={(e) => setAssignee(e.currentTarget.value)} data-testid="plan-assignee" />
      </label>
      <label>
        Due
        <input type="date" value={due} onInput={(e) => setDue(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy || !picked.length} data-testid="plan-submit">
        Create work order
      </button>
      <Problem error={error} />
    </form>
  );
}

type QueueProps = { items: any[]; canPlan: boolean; picked: string[]; toggle(id: string): void };

function QueueTable({ items, canPlan, picked, toggle }: QueueProps) {
  return (
    <table data-testid="queue" class="stack-sm">
      <thead>
        <tr>
          {canPlan && <th scope="col">Pick</th>}
          <th scope="col">Risk</th>
          <th scope="col">Device</th>
          <th scope="col">Defect</th>
          <th scope="col">Why</th>
          <th scope="col">Planned</th>
        </tr>
      </thead>
      <tbody>
        {items.map((it) => (
          <tr key={it.defect.id} data-testid="queue-item" data-defect={it.defect.id}>
            {canPlan && (
              <td>
                <input
                  type="checkbox"
                  aria-label={`Pick ${it.defect.type} on ${it.defect.device.name}`}
                  checked={picked.includes(it.defect.id)}
                  disabled={it.defect.workOrders.some((w: any) => w.status !== 'DONE' && w.status !== 'CANCELLED')}
                  onChange={() => toggle(it.defect.id)}
                />
              </td>
            )}
            <td>{it.score.toFixed(2)}</td>
            <td>
              <a href={`#/device/${it.defect.device.id}`}>{it.defect.device.name}</a>
            </td>
            <td>
              {it.defect.type} <Badge value={it.defect.severity} kind="sev" /> {fmtPct(it.defect.confidence)}
              <div class="muted">last seen {fmtDate(it.defect.lastSeenAt)}</div>
            </td>
            <td>
              <ul class="reasons">
                {it.reasons.map((r: string) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            </td>
            <td>{it.defect.workOrders.map((w: any) => w.status.toLowerCase()).join(', ') || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RepairsView({ canPlan }: { canPlan: boolean }) {
  const [minSeverity, setMinSeverity] = useState('');
  const [unplanned, setUnplanned] = useState(false);
  const [picked, setPicked] = useState<string[]>([]);
  const [planned, setPlanned] = useState(0);
  const f = { ...(minSeverity ? { minSeverity } : {}), ...(unplanned ? { unplanned: true } : {}) };
  const { data, error, reload } = useData(QUEUE, { f }, [minSeverity, unplanned, planned]);
  const items: any[] = data?.repairQueue.nodes ?? [];
  const toggle = (id: string) => setPicked(picked.includes(id) ? picked.filter((p) => p !== id) : [...picked, id]);
  return (
    <div data-testid="repairs-view">
      <h1>Repairs</h1>
      <Section title="Repair queue" id="repair-queue">
        <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the queue">
          <MinSeveritySelect value={minSeverity} onChange={setMinSeverity} />
          <label class="check">
            <input type="checkbox" checked={unplanned} onChange={(e) => setUnplanned(e.currentTarget.checked)} />
            Not yet planned
          </label>
          <button type="button" class="secondary" onClick={reload}>
            Refresh
          </button>
        </form>
        <Problem error={error} />
        {!data && !error && <Loading what="the repair queue" />}
        {data && (
          <div class="scroll-x">
            <p class="muted">{data.repairQueue.totalCount} open defects</p>
            <QueueTable items={items} canPlan={canPlan} picked={picked} toggle={toggle} />
          </div>
        )}
        {canPlan && (
          <PlanForm
            picked={items.filter((it) => picked.includes(it.defect.id))}
            onPlanned={() => {
              setPicked([]);
              setPlanned(planned + 1);
            }}
          />
        )}
      </Section>
      <Section title="Open work orders" id="open-work-orders">
        <WorkOrderList canPlan={canPlan} statuses={['OPEN', 'SCHEDULED', 'IN_PROGRESS']} reloadKey={planned} />
      </Section>
      <Section title="Downloads" id="downloads">
        <Exports />
        <p class="muted">Inspection reports (PDF) are on each device's page, beside its inspections.</p>
      </Section>
    </div>
  );
}
