// The service bench:pipeline measures, in a process of its own (forked by bench/pipeline.ts): the app on the embedded
// defaults, configured by the environment as `npm start` is, and a tally of the statements it runs. Its peak RSS is
// then the service's alone, and the bench's client (uploads, polling, the WebSocket subscriber) does not share its thread.
import { startApp } from '../src/app/app';
import { loadConfig } from '../src/config/config';

/** A statement's verb and first table ("SELECT image", "INSERT anomaly"), to tally what the service runs per image. */
function statementKind(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
  const table = /(?:FROM|INTO|UPDATE)\s+(?:"?\w+"?\.)?"?(\w+)"?/i.exec(sql)?.[1];
  return table ? `${verb} ${table}` : /^\s*\w/.test(sql) ? verb : sql.trim().slice(0, 24);
}

/** What the bench asks of this process over IPC, and what it answers. */
export type ServiceRequest = { kind: 'tally' } | { kind: 'stop' };
export type ServiceMessage =
  | { kind: 'ready'; url: string }
  | { kind: 'tally'; statements: [string, number, number][] }
  | { kind: 'stopped' };

async function main() {
  const send = (m: ServiceMessage) => process.send?.(m);
  const app = await startApp(loadConfig(process.env));
  /** Per kind: how many, and their milliseconds as the database driver saw them. */
  const statements = new Map<string, [number, number]>();
  app.db.onQuery(({ sql, durationMs }) => {
    const kind = statementKind(sql);
    const [n, ms] = statements.get(kind) ?? [0, 0];
    statements.set(kind, [n + 1, ms + durationMs]);
  });
  process.on('message', async (m: ServiceRequest) => {
    if (m.kind === 'tally') send({ kind: 'tally', statements: [...statements].map(([kind, [n, ms]]) => [kind, n, ms]) });
    if (m.kind === 'stop') {
      await app.stop();
      send({ kind: 'stopped' });
      process.disconnect?.();
    }
  });
  // The bench is gone (it failed or was stopped): so is the service.
  process.on('disconnect', () => void app.stop().finally(() => process.exit(0)));
  send({ kind: 'ready', url: app.url });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
