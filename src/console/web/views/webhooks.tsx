import { useState } from 'preact/hooks';
import { Badge, fmtDate, Loading, Problem, useAction, useData } from '../ui';

// Webhook endpoints (create: the signing secret is shown once; enable/disable; delete) and each one's delivery log.
const ENDPOINTS =
  '{ webhookEndpoints(first: 50) { nodes { id url description enabled events consecutiveFailures disabledReason createdAt } } }';
const DELIVERIES = `query($id: ID!) { webhookDeliveries(endpointId: $id, first: 20) { nodes { id status attempts createdAt lastStatusCode lastError event { type } } } }`;
const CREATE = 'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id } } }';
const UPDATE = 'mutation($id: ID!, $i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $i) { id enabled } }';
const EVENTS = [
  'DEFECT_OPENED',
  'DEFECT_REOPENED',
  'DEFECT_RESOLVED',
  'WORK_ORDER_CREATED',
  'WORK_ORDER_CHANGED',
  'ANOMALY_CONFIRMED',
  'INSPECTION_FINISHED',
  'MODEL_DEPLOYED',
  'MODEL_DRIFT',
];

function Deliveries({ id }: { id: string }) {
  const { data, error } = useData(DELIVERIES, { id }, [id]);
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="deliveries" />;
  if (!data.webhookDeliveries.nodes.length) return <p class="muted">No deliveries yet.</p>;
  return (
    <table data-testid="deliveries">
      <caption>Delivery log</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Answer</th>
          <th scope="col">At</th>
        </tr>
      </thead>
      <tbody>
        {data.webhookDeliveries.nodes.map((d: any) => (
          <tr key={d.id}>
            <td>{d.event.type.toLowerCase()}</td>
            <td>
              <Badge value={d.status} />
            </td>
            <td>{d.attempts}</td>
            <td>{d.lastStatusCode ?? d.lastError ?? '—'}</td>
            <td>{fmtDate(d.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Webhooks() {
  const { data, error, reload } = useData(ENDPOINTS);
  const { run, busy, error: actError } = useAction();
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  async function create(e: Event) {
    e.preventDefault();
    const made = await run(CREATE, { i: { url, events: EVENTS } });
    if (made) {
      setSecret(made.createWebhookEndpoint.secret);
      setUrl('');
      reload();
    }
  }
  return (
    <>
      <form class="inline" onSubmit={create} aria-label="Add a webhook endpoint">
        <label>
          Endpoint URL
          <input type="url" required value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Add endpoint
        </button>
      </form>
      {secret && (
        <p class="notice" role="status">
          Signing secret (shown once): <code>{secret}</code>
        </p>
      )}
      <Problem error={error ?? actError} />
      {!data && !error && <Loading what="webhooks" />}
      {data && (
        <ul class="plain" data-testid="webhook-endpoints">
          {data.webhookEndpoints.nodes.map((w: any) => (
            <li key={w.id}>
              <code>{w.url}</code> <Badge value={w.enabled ? 'ENABLED' : 'DISABLED'} /> {w.consecutiveFailures} failures in a row
              {w.disabledReason ? ` (${w.disabledReason})` : ''}{' '}
              <button type="button" class="secondary" aria-expanded={open === w.id} onClick={() => setOpen(open === w.id ? null : w.id)}>
                Delivery log
              </button>{' '}
              <button
                type="button"
                class="secondary"
                disabled={busy}
                onClick={async () => (await run(UPDATE, { id: w.id, i: { enabled: !w.enabled } })) && reload()}
              >
                {w.enabled ? 'Disable' : 'Enable'}
              </button>
              {open === w.id && <Deliveries id={w.id} />}
            </li>
          ))}
          {!data.webhookEndpoints.nodes.length && <li class="muted">No endpoints.</li>}
        </ul>
      )}
    </>
  );
}
