import { Loading, Problem, Section, useData } from '../ui';

// A REVIEWER key sees no fleet: its queue figures and the way to the reviewer page.
export function ReviewerView() {
  const { data, error } = useData('{ reviewStats { pending claimed completedToday mineToday escalated } }');
  return (
    <div data-testid="reviewer-view">
      <h1>Reviews</h1>
      <Section title="Your queue" id="review-stats">
        <Problem error={error} />
        {!data && !error && <Loading what="the queue" />}
        {data && (
          <dl class="figures">
            <div>
              <dt>Waiting</dt>
              <dd>{data.reviewStats.pending}</dd>
            </div>
            <div>
              <dt>Claimed</dt>
              <dd>{data.reviewStats.claimed}</dd>
            </div>
            <div>
              <dt>Answered today (you)</dt>
              <dd>{data.reviewStats.mineToday}</dd>
            </div>
            <div>
              <dt>Answered today (all)</dt>
              <dd>{data.reviewStats.completedToday}</dd>
            </div>
          </dl>
        )}
        <p>
          <a href="/review">Open the reviewer page</a> to answer tasks.
        </p>
      </Section>
    </div>
  );
}
