import { useState } from 'preact/hooks';
import { setTileUrl, tileUrl } from '../settings-store';
import { Badge, fmtDate, Loading, Problem, SEVERITIES, Section, useAction, useData } from '../ui';
import { Webhooks } from './webhooks';

// Settings (ADMIN): API keys (the secret is shown once), webhooks and their delivery log, severity rules, review settings and
// this browser's map tiles. An INTEGRATOR sees its own webhooks only.
const KEYS =
  '{ apiKeys(first: 100) { nodes { id name prefix role createdAt lastUsedAt revokedAt } } reviewSettings { anomalyTypes humanReview leaseSeconds requiredAnswers } severityRuleTypes }';
const CREATE_KEY = 'mutation($n: String!, $r: Role!) { createApiKey(name: $n, role: $r) { secret apiKey { id } } }';
const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
const RULES =
  'query($t: String!) { severityRules(deviceType: $t) { deviceType source rules { anomalyType minAreaShare minConfidence severity } } }';
const SET_RULES = 'mutation($i: SetSeverityRulesInput!) { setSeverityRules(input: $i) { deviceType } }';

function KeysTable({ keys, busy, revoke }: { keys: any[]; busy: boolean; revoke(id: string): void }) {
  return (
    <table data-testid="api-keys">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Role</th>
          <th scope="col">Prefix</th>
          <th scope="col">Last used</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id}>
            <td>{k.name}</td>
            <td>{k.role}</td>
            <td>
              <code>{k.prefix}</code>
            </td>
            <td>{fmtDate(k.lastUsedAt)}</td>
            <td>
              {k.revokedAt ? (
                `revoked ${fmtDate(k.revokedAt)}`
              ) : (
                <button type="button" class="secondary" disabled={busy} onClick={() => revoke(k.id)}>
                  Revoke <span class="sr-only">{k.name}</span>
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RulesTable({ set }: { set: any }) {
  return (
    <table data-testid="severity-rules">
      <caption>Rules ({set.source.toLowerCase()})</caption>
      <thead>
        <tr>
          <th scope="col">Anomaly type</th>
          <th scope="col">Min. area share</th>
          <th scope="col">Min. confidence</th>
          <th scope="col">Severity</th>
        </tr>
      </thead>
      <tbody>
        {set.rules.map((r: any) => (
          <tr key={`${r.anomalyType}-${r.severity}-${r.minAreaShare}-${r.minConfidence}`}>
            <td>{r.anomalyType}</td>
            <td>{r.minAreaShare}</td>
            <td>{r.minConfidence}</td>
            <td>
              <Badge value={r.severity} kind="sev" />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ApiKeys({ keys, reload }: { keys: any[]; reload(): void }) {
  const { run, busy, error } = useAction();
  const [name, setName] = useState('');
  const [role, setRole] = useState('OPERATOR');
  const [secret, setSecret] = useState<string | null>(null);
  async function create(e: Event) {
    e.preventDefault();
    const made = await run(CREATE_KEY, { n: name, r: role });
    if (made) {
      setSecret(made.createApiKey.secret);
      setName('');
      reload();
    }
  }
  return (
    <>
      <form class="inline" onSubmit={create} aria-label="Create an API key">
        <label>
          Name
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} data-testid="key-name" />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {['OPERATOR', 'REVIEWER', 'INTEGRATOR', 'ADMIN'].map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy} data-testid="key-create">
          Create key
        </button>
      </form>
      {secret && (
        <p class="notice" role="status" data-testid="key-secret">
          Copy this key now; it is not shown again: <code>{secret}</code>{' '}
          <button type="button" class="secondary" onClick={() => setSecret(null)}>
            Done
          </button>
        </p>
      )}
      <Problem error={error} />
      <div class="scroll-x">
        <KeysTable keys={keys} busy={busy} revoke={async (id) => (await run(REVOKE_KEY, { id })) && reload()} />
      </div>
    </>
  );
}

function SeverityRules({ types }: { types: string[] }) {
  const [type, setType] = useState(types[0] ?? '*');
  const { data, error, reload } = useData(RULES, { t: type }, [type]);
  const { run, busy, error: saveError } = useAction();
  const [draft, setDraft] = useState({ anomalyType: '*', minAreaShare: '0', minConfidence: '0', severity: 'HIGH' });
  async function add(e: Event) {
    e.preventDefault();
    const rules = [
      ...(data?.severityRules.source === 'OWN' ? data.severityRules.rules : []).map((r: any) => ({
        anomalyType: r.anomalyType,
        minAreaShare: r.minAreaShare,
        minConfidence: r.minConfidence,
        severity: r.severity,
      })),
      {
        anomalyType: draft.anomalyType || '*',
        minAreaShare: Number(draft.minAreaShare),
        minConfidence: Number(draft.minConfidence),
        severity: draft.severity,
      },
    ];
    if (await run(SET_RULES, { i: { deviceType: type, rules } })) reload();
  }
  return (
    <>
      <label>
        Device type{' '}
        <select value={type} onChange={(e) => setType(e.currentTarget.value)}>
          {[...new Set(['*', ...types])].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <Problem error={error ?? saveError} />
      {data && <RulesTable set={data.severityRules} />}
      <form class="inline" onSubmit={add} aria-label="Add a severity rule">
        <label>
          Anomaly type
          <input value={draft.anomalyType} onInput={(e) => setDraft({ ...draft, anomalyType: e.currentTarget.value })} />
        </label>
        <label>
          Min. area share
          <input
            type="number"
            step="0.01"
            min="0"
            max="1"
            value={draft.minAreaShare}
            onInput={(e) => setDraft({ ...draft, minAreaShare: e.currentTarget.value })}
          />
        </label>
        <label>
          Min. confidence
          <input
            type="number"
            step="0.01"
            min="0"
            max="1"
            value={draft.minConfidence}
            onInput={(e) => setDraft({ ...draft, minConfidence: e.currentTarget.value })}
          />
        </label>
        <label>
          Severity
          <select value={draft.severity} onChange={(e) => setDraft({ ...draft, severity: e.currentTarget.value })}>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Add rule
        </button>
      </form>
    </>
  );
}

function Tiles() {
  const [value, setValue] = useState(tileUrl() ?? '');
  const [message, setMessage] = useState<string | null>(null);
  return (
    <form
      class="inline"
      aria-label="Map tiles"
      onSubmit={(e) => {
        e.preventDefault();
        const refused = setTileUrl(value);
        setMessage(refused ?? (value.trim() ? 'Saved for this browser.' : 'Cleared: the map shows Natural Earth outlines.'));
      }}
    >
      <label>
        Tile URL template (same origin, e.g. /tiles/{'{z}/{x}/{y}'}.png)
        <input value={value} onInput={(e) => setValue(e.currentTarget.value)} data-testid="tile-url" />
      </label>
      <button type="submit">Save</button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}

export function SettingsView({ isAdmin }: { isAdmin: boolean }) {
  const { data, error, reload } = useData(isAdmin ? KEYS : '{ viewer { name } }');
  if (!isAdmin)
    return (
      <div data-testid="settings-view">
        <h1>Settings</h1>
        <Section title="Webhooks" id="webhooks">
          <Webhooks />
        </Section>
      </div>
    );
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="settings" />;
  const rs = data.reviewSettings;
  return (
    <div data-testid="settings-view">
      <h1>Settings</h1>
      <Section title="API keys" id="api-keys-section">
        <ApiKeys keys={data.apiKeys.nodes} reload={reload} />
      </Section>
      <Section title="Webhooks" id="webhooks">
        <Webhooks />
      </Section>
      <Section title="Severity rules" id="severity">
        <SeverityRules types={data.severityRuleTypes} />
      </Section>
      <Section title="Review settings" id="review-settings">
        <dl class="figures">
          <div>
            <dt>Human review</dt>
            <dd>{rs.humanReview}</dd>
          </div>
          <div>
            <dt>Answers per task</dt>
            <dd>{rs.requiredAnswers}</dd>
          </div>
          <div>
            <dt>Lease</dt>
            <dd>{rs.leaseSeconds} s</dd>
          </div>
          <div>
            <dt>Anomaly types</dt>
            <dd>{rs.anomalyTypes.join(', ')}</dd>
          </div>
        </dl>
        <p class="muted">These come from the server's configuration (REVIEW_* settings) and change with a restart.</p>
      </Section>
      <Section title="Map tiles (this browser)" id="tiles">
        <Tiles />
      </Section>
    </div>
  );
}
