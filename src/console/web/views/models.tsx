import { useMemo, useState } from 'preact/hooks';
import { Chart } from '../chart';
import { Badge, fmtDate, fmtPct, Loading, Problem, Section, useAction, useData } from '../ui';

// Models: what serves each device type and profile, the candidates with their test-split figures, the deploy gate (its verdict
// comes with a deploy attempt), deploy and rollback for ADMIN, agreement with reviewers over time and labels waiting.
const MODELS = `{ activeModels { deviceType profile drifting model { id version } }
  modelVersions(first: 30) { nodes { id version deviceType profile status active createdAt trainer
    metrics { auroc f1 precision recall atRecall precisionAtRecall fprAtRecall testCount anomalous normal threshold confusion { tp fp tn fn } roc { x y } pr { x y } }
    deployments { createdAt action overridden reason gate { passed reasons } } } } }`;
const HEALTH = `query($t: String!) { modelHealth(deviceType: $t) { drifting belowFloor labelsWaiting lastTrainedAt settings { floor }
  qa { agreement samples precision recall } }
  reviewQueue(first: 200, statuses: [COMPLETED], reasons: [SAMPLED_QA]) { nodes { completedAt deviceType verdict modelOutput { isAnomalous } } } }`;
const DEPLOY = 'mutation($i: DeployModelInput!) { deployModel(input: $i) { id gate { passed reasons } } }';
const ROLLBACK = 'mutation($i: RollbackModelInput!) { rollbackModel(input: $i) { id } }';

function Confusion({ c }: { c: { tp: number; fp: number; tn: number; fn: number } }) {
  return (
    <table class="confusion" data-testid="confusion">
      <caption>Confusion matrix (test split)</caption>
      <thead>
        <tr>
          <td />
          <th scope="col">predicted anomalous</th>
          <th scope="col">predicted normal</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">anomalous</th>
          <td>{c.tp}</td>
          <td>{c.fn}</td>
        </tr>
        <tr>
          <th scope="row">normal</th>
          <td>{c.fp}</td>
          <td>{c.tn}</td>
        </tr>
      </tbody>
    </table>
  );
}

type Point = { x: number; y: number };

/** The ROC and precision-recall curves the API measured on the test split, with the chance line. */
function MeasuredCurves({ m, roc, pr }: { m: any; roc: Point[]; pr: Point[] }) {
  return (
    <div class="curves">
      <Chart
        label={`ROC curve on the test split, AUROC ${m.auroc?.toFixed(3) ?? 'unknown'}`}
        x={roc.map((p) => p.x)}
        ys={[roc.map((p) => p.y), roc.map((p) => p.x)]}
        series={[
          { label: 'ROC', stroke: '#0969da' },
          { label: 'chance', stroke: '#8c959f' },
        ]}
        height={200}
        unit
        axes={['false-positive rate', 'true-positive rate']}
        testid="roc"
      />
      <Chart
        label={`Precision-recall curve on the test split; precision ${fmtPct(m.precisionAtRecall)} at recall ${fmtPct(m.atRecall)}`}
        x={pr.map((p) => p.x)}
        ys={[pr.map((p) => p.y)]}
        series={[{ label: 'precision', stroke: '#cf222e' }]}
        height={200}
        unit
        axes={['recall', 'precision']}
        testid="pr"
      />
    </div>
  );
}

/** ROC and PR space: the measured curves, or for versions measured before curves were kept, the operating point(s). */
function Curves({ m }: { m: any }) {
  if (m.roc?.length && m.pr?.length) return <MeasuredCurves m={m} roc={m.roc} pr={m.pr} />;
  return <OperatingPoints m={m} />;
}

function OperatingPoints({ m }: { m: any }) {
  const c = m.confusion;
  const tpr = c ? c.tp / Math.max(1, c.tp + c.fn) : null;
  const fpr = c ? c.fp / Math.max(1, c.fp + c.tn) : null;
  const roc = useMemo(
    () => ({
      x: [0, fpr ?? 0, 1],
      ys: [
        [0, tpr, 1],
        [0, null, 1],
      ] as (number | null)[][],
    }),
    [tpr, fpr],
  );
  const pr = useMemo(() => {
    const points = [
      [m.recall, m.precision],
      [m.atRecall, m.precisionAtRecall],
    ].filter(([r, p]) => r != null && p != null) as [number, number][];
    points.sort((p, q) => p[0] - q[0]);
    return { x: points.map((p) => p[0]), ys: [points.map((p) => p[1])] as (number | null)[][] };
  }, [m]);
  return (
    <div class="curves">
      <Chart
        label={`ROC space: operating point at false-positive rate ${fmtPct(fpr)}, true-positive rate ${fmtPct(tpr)}, AUROC ${m.auroc?.toFixed(3) ?? 'unknown'}`}
        x={roc.x}
        ys={roc.ys}
        series={[
          { label: 'ROC (via operating point)', stroke: '#0969da', points: true },
          { label: 'chance', stroke: '#8c959f', spanGaps: true },
        ]}
        height={200}
        unit
        axes={['false-positive rate', 'true-positive rate']}
        testid="roc"
      />
      <Chart
        label={`Precision-recall points: at the threshold and at the fixed recall`}
        x={pr.x}
        ys={pr.ys}
        series={[{ label: 'precision at recall', stroke: '#cf222e', points: true }]}
        height={200}
        unit
        axes={['recall', 'precision']}
        testid="pr"
      />
    </div>
  );
}

function Version({ v, isAdmin, reload }: { v: any; isAdmin: boolean; reload(): void }) {
  const { run, busy, error } = useAction();
  const [reason, setReason] = useState('');
  const last = v.deployments.at(-1);
  const deploy = async (override: boolean) =>
    (await run(DEPLOY, { i: { id: v.id, override, reason: override ? reason : null } })) && reload();
  return (
    <article class="card model" data-testid="model-version">
      <h3>
        {v.deviceType} · {v.profile.toLowerCase()} · {v.version ?? 'unnamed'} <Badge value={v.active ? 'SERVING' : v.status} />
      </h3>
      <p class="muted">
        {v.trainer}, {fmtDate(v.createdAt)}
      </p>
      {v.metrics ? (
        <>
          <dl class="figures">
            <div>
              <dt>AUROC</dt>
              <dd>{v.metrics.auroc?.toFixed(3) ?? '—'}</dd>
            </div>
            <div>
              <dt>Precision</dt>
              <dd>{fmtPct(v.metrics.precision)}</dd>
            </div>
            <div>
              <dt>Recall</dt>
              <dd>{fmtPct(v.metrics.recall)}</dd>
            </div>
            <div>
              <dt>F1</dt>
              <dd>{v.metrics.f1?.toFixed(3) ?? '—'}</dd>
            </div>
            <div>
              <dt>Test images</dt>
              <dd>{v.metrics.testCount}</dd>
            </div>
          </dl>
          {v.metrics.confusion && <Confusion c={v.metrics.confusion} />}
          <Curves m={v.metrics} />
        </>
      ) : (
        <p class="muted">No metrics.</p>
      )}
      <p data-testid="gate">
        Deploy gate:{' '}
        {last?.gate
          ? `${last.gate.passed ? 'passed' : 'refused'}${last.gate.reasons.length ? ` — ${last.gate.reasons.join('; ')}` : ''}${last.overridden ? ` (overridden: ${last.reason})` : ''}`
          : 'judged when the version is deployed'}
      </p>
      {isAdmin && v.status === 'TRAINED' && !v.active && (
        <form class="inline" onSubmit={(e) => e.preventDefault()} aria-label={`Deploy ${v.version ?? v.id}`}>
          <button type="button" disabled={busy} onClick={() => deploy(false)}>
            Deploy
          </button>
          <label>
            Override reason
            <input value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="button" class="secondary" disabled={busy || !reason.trim()} onClick={() => deploy(true)}>
            Deploy anyway
          </button>
        </form>
      )}
      {isAdmin && v.active && (
        <button
          type="button"
          class="secondary"
          disabled={busy}
          onClick={async () => (await run(ROLLBACK, { i: { deviceType: v.deviceType, profile: v.profile } })) && reload()}
        >
          Roll back
        </button>
      )}
      <Problem error={error} />
    </article>
  );
}

function Health({ deviceType }: { deviceType: string }) {
  const { data, error } = useData(HEALTH, { t: deviceType }, [deviceType]);
  const series = useMemo(() => {
    const tasks = (data?.reviewQueue.nodes ?? [])
      .filter((t: any) => t.deviceType === deviceType && t.modelOutput && t.completedAt)
      .reverse();
    const x: number[] = [];
    const y: number[] = [];
    let agree = 0;
    tasks.forEach((t: any, i: number) => {
      agree += (t.verdict === 'ANOMALOUS') === t.modelOutput.isAnomalous ? 1 : 0;
      x.push(Date.parse(t.completedAt) / 1000);
      y.push(agree / (i + 1));
    });
    return { x, y };
  }, [data, deviceType]);
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="model health" />;
  const h = data.modelHealth;
  return (
    <div data-testid="model-health">
      <dl class="figures">
        <div>
          <dt>Agreement with reviewers (QA)</dt>
          <dd>
            {fmtPct(h.qa.agreement)} of {h.qa.samples} {h.drifting ? '(drifting)' : ''}
          </dd>
        </div>
        <div>
          <dt>Floor</dt>
          <dd>{fmtPct(h.settings.floor)}</dd>
        </div>
        <div>
          <dt>Labels waiting</dt>
          <dd data-testid="labels-waiting">{h.labelsWaiting}</dd>
        </div>
        <div>
          <dt>Last trained</dt>
          <dd>{fmtDate(h.lastTrainedAt)}</dd>
        </div>
      </dl>
      {series.x.length > 1 ? (
        <Chart
          label={`Agreement with reviewers over time for ${deviceType}`}
          x={series.x}
          ys={[series.y]}
          xTime
          series={[{ label: 'agreement (cumulative)', stroke: '#8250df' }]}
          axes={['', 'agreement']}
          testid="drift"
        />
      ) : (
        <p class="muted">Too few QA reviews for a drift chart.</p>
      )}
    </div>
  );
}

export function ModelsView({ isAdmin }: { isAdmin: boolean }) {
  const { data, error, reload } = useData(MODELS);
  const types = useMemo(() => [...new Set<string>((data?.modelVersions.nodes ?? []).map((v: any) => v.deviceType))].sort(), [data]);
  const [type, setType] = useState('');
  const current = type || types[0] || '';
  if (error) return <Problem error={error} />;
  if (!data) return <Loading what="models" />;
  return (
    <div data-testid="models-view">
      <h1>Models</h1>
      <Section title="Serving now" id="serving">
        <ul class="plain">
          {data.activeModels.map((a: any) => (
            <li key={`${a.deviceType}-${a.profile}`}>
              {a.deviceType} · {a.profile.toLowerCase()}: {a.model.version ?? a.model.id} {a.drifting && <Badge value="DRIFTING" />}
            </li>
          ))}
          {!data.activeModels.length && <li class="muted">No model serves yet.</li>}
        </ul>
      </Section>
      {types.length > 0 && (
        <label class="pick">
          Device type{' '}
          <select value={current} onChange={(e) => setType(e.currentTarget.value)} data-testid="model-type">
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
      )}
      {current && (
        <Section title={`Health of ${current}`} id="health">
          <Health deviceType={current} />
        </Section>
      )}
      <Section title="Versions and candidates" id="versions">
        {data.modelVersions.nodes
          .filter((v: any) => v.deviceType === current)
          .map((v: any) => (
            <Version key={v.id} v={v} isAdmin={isAdmin} reload={reload} />
          ))}
        {!types.length && <p class="muted">No model versions yet.</p>}
      </Section>
    </div>
  );
}
