import { ok, type TestApp } from './app';

/** Polls a model version (with the fields `query` asks for) until it is no longer TRAINING. */
export async function untilTrained(t: TestApp, query: string, id: string, timeoutMs = 180_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = ok(await t.gql(query, { id })).modelVersion;
    if (v.status !== 'TRAINING') return v;
    if (Date.now() > until) throw new Error(`model version ${id} still TRAINING after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
