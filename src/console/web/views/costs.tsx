import { useMemo } from 'preact/hooks';
import { Chart } from '../chart';
import { fmtUsd, Loading, Problem, Section, useData } from '../ui';

// Costs: detector spend per day by stage for two weeks, what the cascade saved, spend by detector, and the reviewers' load.
const DAYS = 14;
const DAY = 86_400_000;

function costQuery(start: number): string {
  const parts = Array.from({ length: DAYS }, (_, i) => {
    const from = new Date(start + i * DAY).toISOString();
    const to = new Date(start + (i + 1) * DAY).toISOString();
    return `d${i}: costReport(from: "${from}", to: "${to}") { totalUsd savedUsd screen { usd } inspect { usd } }`;
  });
  const from = new Date(start).toISOString();
  const to = new Date(start + DAYS * DAY).toISOString();
  return `{ ${parts.join('\n')}
    all: costReport(from: "${from}", to: "${to}") { totalUsd savedUsd withoutCascadeUsd inspectCallsAvoided
      screen { usd calls images } inspect { usd calls images } byDetector { detector stage calls usd } }
    reviewStats { pending claimed completed completedToday escalated byReason { reason pending completed } } }`;
}

function ReviewerLoad({ stats }: { stats: any }) {
  return (
    <Section title="Reviewer load" id="reviewer-load">
      <dl class="figures">
        <div>
          <dt>Waiting</dt>
          <dd data-testid="review-pending">{stats.pending}</dd>
        </div>
        <div>
          <dt>Claimed</dt>
          <dd>{stats.claimed}</dd>
        </div>
        <div>
          <dt>Answered today</dt>
          <dd>{stats.completedToday}</dd>
        </div>
        <div>
          <dt>Escalated</dt>
          <dd>{stats.escalated}</dd>
        </div>
      </dl>
      <table>
        <caption>By reason</caption>
        <thead>
          <tr>
            <th scope="col">Reason</th>
            <th scope="col">Waiting</th>
            <th scope="col">Answered</th>
          </tr>
        </thead>
        <tbody>
          {stats.byReason.map((r: any) => (
            <tr key={r.reason}>
              <td>{r.reason.toLowerCase().replace('_', ' ')}</td>
              <td>{r.pending}</td>
              <td>{r.completed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function CostsView() {
  const start = useMemo(() => {
    const today = new Date();
    today.setUTCHours(0, 0, 0, 0);
    return today.getTime() - (DAYS - 1) * DAY;
  }, []);
  const { data, error } = useData(costQuery(start));
  const chart = useMemo(() => {
    if (!data) return null;
    const x = Array.from({ length: DAYS }, (_, i) => (start + i * DAY) / 1000);
    const day = (i: number) => data[`d${i}`];
    return {
      x,
      ys: [x.map((_, i) => day(i).screen.usd), x.map((_, i) => day(i).inspect.usd), x.map((_, i) => day(i).savedUsd)],
    };
  }, [data, start]);
  if (error) return <Problem error={error} />;
  if (!data || !chart) return <Loading what="costs" />;
  const all = data.all;
  return (
    <div data-testid="costs-view">
      <h1>Costs</h1>
      <Section title={`Detector spend, last ${DAYS} days`} id="spend">
        <dl class="figures" data-testid="cost-figures">
          <div>
            <dt>Spent</dt>
            <dd>{fmtUsd(all.totalUsd)}</dd>
          </div>
          <div>
            <dt>Without the cascade</dt>
            <dd>{fmtUsd(all.withoutCascadeUsd)}</dd>
          </div>
          <div>
            <dt>Saved by the cascade</dt>
            <dd>{fmtUsd(all.savedUsd)}</dd>
          </div>
          <div>
            <dt>Stage-2 calls avoided</dt>
            <dd>{Math.round(all.inspectCallsAvoided)}</dd>
          </div>
        </dl>
        <Chart
          label="Spend per day: screening, inspection and what the cascade saved"
          x={chart.x}
          ys={chart.ys}
          xTime
          series={[
            { label: 'screen $', stroke: '#0969da' },
            { label: 'inspect $', stroke: '#cf222e' },
            { label: 'saved $', stroke: '#1a7f37' },
          ]}
          axes={['', 'USD per day']}
          testid="cost-chart"
        />
        <table data-testid="by-detector">
          <caption>By stage and detector</caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Detector</th>
              <th scope="col">Calls</th>
              <th scope="col">Spend</th>
            </tr>
          </thead>
          <tbody>
            {all.byDetector.map((d: any) => (
              <tr key={`${d.stage}-${d.detector}`}>
                <td>{d.stage.toLowerCase()}</td>
                <td>{d.detector}</td>
                <td>{d.calls}</td>
                <td>{fmtUsd(d.usd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <ReviewerLoad stats={data.reviewStats} />
    </div>
  );
}
