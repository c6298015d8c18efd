import { useState } from 'preact/hooks';
import { Badge, fmtDate, Loading, Problem, useAction, useData } from '../ui';

// Work orders: the list (of one device or all open ones), moving them along OPEN → SCHEDULED → IN_PROGRESS, editing the
// assignee and due date, and closing them with what the crew found per defect.
const WORK_ORDERS = `query($f: WorkOrderFilter) { workOrders(first: 50, filter: $f) { totalCount nodes {
  id status priority assignee dueAt notes createdAt automatic flagged flagReason device { id name }
  defects { active finding defect { id type severity status } } } } }`;
const MOVE = 'mutation($id: ID!, $s: WorkOrderStatus!) { moveWorkOrder(id: $id, status: $s) { id status } }';
const UPDATE = 'mutation($id: ID!, $i: UpdateWorkOrderInput!) { updateWorkOrder(id: $id, input: $i) { id assignee dueAt } }';
const COMPLETE =
  'mutation($id: ID!, $f: [FieldFindingInput!]!, $n: String) { completeWorkOrder(id: $id, findings: $f, note: $n) { id status } }';
const NEXT: Record<string, string | undefined> = { OPEN: 'SCHEDULED', SCHEDULED: 'IN_PROGRESS' };
const NEXT_LABEL: Record<string, string> = { SCHEDULED: 'Schedule', IN_PROGRESS: 'Start' };

function CloseForm({ order, onDone }: { order: any; onDone(): void }) {
  const { run, busy, error } = useAction();
  const active = order.defects.filter((d: any) => d.active);
  const [findings, setFindings] = useState<Record<string, { finding: string; correctedType: string }>>(
    Object.fromEntries(active.map((d: any) => [d.defect.id, { finding: 'FIXED', correctedType: '' }])),
  );
  const [note, setNote] = useState('');
  async function submit(e: Event) {
    e.preventDefault();
    const f = Object.entries(findings).map(([defectId, v]) => ({
      defectId,
      finding: v.finding,
      ...(v.finding === 'DIFFERENT_PROBLEM' && v.correctedType ? { correctedType: v.correctedType } : {}),
    }));
    if (await run(COMPLETE, { id: order.id, f, n: note || null })) onDone();
  }
  return (
    <form class="close-form" onSubmit={submit} aria-label="Close the work order" data-testid="close-form">
      {active.map((d: any) => (
        <fieldset key={d.defect.id}>
          <legend>
            {d.defect.type} (<Badge value={d.defect.severity} kind="sev" />)
          </legend>
          <label>
            Field outcome
            <select
              value={findings[d.defect.id].finding}
              onChange={(e) => setFindings({ ...findings, [d.defect.id]: { ...findings[d.defect.id], finding: e.currentTarget.value } })}
              data-testid="finding"
            >
              <option value="FIXED">fixed</option>
              <option value="NOTHING_FOUND">nothing found</option>
              <option value="DIFFERENT_PROBLEM">a different problem</option>
            </select>
          </label>
          {findings[d.defect.id].finding === 'DIFFERENT_PROBLEM' && (
            <label>
              Actual type
              <input
                value={findings[d.defect.id].correctedType}
                onInput={(e) =>
                  setFindings({ ...findings, [d.defect.id]: { ...findings[d.defect.id], correctedType: e.currentTarget.value } })
                }
              />
            </label>
          )}
        </fieldset>
      ))}
      <label>
        Note
        <input value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy} data-testid="close-submit">
        Close work order
      </button>
      <Problem error={error} />
    </form>
  );
}

function Row({ order, canPlan, reload }: { order: any; canPlan: boolean; reload(): void }) {
  const { run, busy, error } = useAction();
  const [closing, setClosing] = useState(false);
  const [assignee, setAssignee] = useState(order.assignee ?? '');
  const [due, setDue] = useState(order.dueAt ? order.dueAt.slice(0, 10) : '');
  const next = NEXT[order.status];
  const editable = order.status !== 'DONE' && order.status !== 'CANCELLED';
  const act = async (q: string, v: Record<string, unknown>) => (await run(q, v)) && reload();
  return (
    <tr data-testid="work-order" data-id={order.id} data-status={order.status}>
      <td>
        <a href={`#/device/${order.device.id}`}>{order.device.name}</a>
        <div class="muted">
          {order.defects.map((d: any) => d.defect.type).join(', ')}
          {order.flagged ? ` · flagged: ${order.flagReason}` : ''}
        </div>
      </td>
      <td>
        <Badge value={order.status} />
      </td>
      <td>
        <Badge value={order.priority} kind="prio" />
      </td>
      <td>
        {canPlan && editable ? (
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              act(UPDATE, { id: order.id, i: { assignee: assignee || null, dueAt: due ? `${due}T12:00:00Z` : null } });
            }}
          >
            <label>
              <span class="sr-only">Assignee</span>
              <input value={assignee} placeholder="assignee" onInput={(e) => setAssignee(e.currentTarget.value)} data-testid="assignee" />
            </label>
            <label>
              <span class="sr-only">Due date</span>
              <input type="date" value={due} onInput={(e) => setDue(e.currentTarget.value)} data-testid="due" />
            </label>
            <button type="submit" disabled={busy} data-testid="save-assignment">
              Save
            </button>
          </form>
        ) : (
          `${order.assignee ?? '—'} · due ${fmtDate(order.dueAt).slice(0, 10)}`
        )}
      </td>
      <td>
        {canPlan && next && (
          <button type="button" disabled={busy} onClick={() => act(MOVE, { id: order.id, s: next })} data-testid={`move-${next}`}>
            {NEXT_LABEL[next]}
          </button>
        )}
        {canPlan && order.status === 'IN_PROGRESS' && (
          <button type="button" aria-expanded={closing} onClick={() => setClosing(!closing)} data-testid="close-open">
            Close…
          </button>
        )}
        {canPlan && editable && (
          <button type="button" class="secondary" disabled={busy} onClick={() => act(MOVE, { id: order.id, s: 'CANCELLED' })}>
            Cancel
          </button>
        )}
        {closing && <CloseForm order={order} onDone={reload} />}
        <Problem error={error} />
      </td>
    </tr>
  );
}

export function WorkOrderList({
  deviceId,
  canPlan,
  statuses,
  reloadKey = 0,
}: {
  deviceId?: string;
  canPlan: boolean;
  statuses?: string[];
  reloadKey?: number;
}) {
  const f = { ...(deviceId ? { deviceId } : {}), ...(statuses ? { status: statuses } : {}) };
  const { data, error, reload } = useData(WORK_ORDERS, { f }, [deviceId, reloadKey]);
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="work orders" />;
  if (!data.workOrders.nodes.length) return <p class="muted">No work orders.</p>;
  return (
    <div class="scroll-x">
      <table data-testid="work-orders" class="stack-sm">
        <thead>
          <tr>
            <th scope="col">Device and defects</th>
            <th scope="col">Status</th>
            <th scope="col">Priority</th>
            <th scope="col">Assignee and due date</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {data.workOrders.nodes.map((o: any) => (
            <Row key={`${o.id}-${o.status}`} order={o} canPlan={canPlan} reload={reload} />
          ))}
        </tbody>
      </table>
    </div>
  );
}
