// The service bench:pipeline measures, in a process of its own (forked by bench/pipeline.ts): the app on the embedded
// defaults, configured by the environment as `npm start` is, and a tally of the statements it runs. Its peak RSS is
// then the service's alone, and the bench's client (uploads, polling, the WebSocket subscriber) does not share its thread.
import { startApp } from '../src/app/app';
import { loadConfig } from '../src/config/config';

/** A statement's verb and first table ("SELECT image", "INSERT anomaly"), to tally what the service runs per image. */
export function statementKind(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? '?';
  const table = /(?:FROM|INTO|UPDATE)\s+(?:"?\w+"?\.)?"?(\w+)"?/i.exec(sql)?.[1];
  return table ? `${verb} ${table}` : /^\s*\w/.test(sql) ? verb : sql.trim().slice(0, 24);
}

/** What the bench asks of this process over IPC, and what it answers. */
export type ServiceRequest = { kind: 'tally' } | { kind: 'stop' };
export type ServiceMessage = { kind: 'ready'; url: string } | { kind: 'tally'; statements: [string, number][] } | { kind: 'stopped' };

async function main() {
  const send = (m: ServiceMessage) => process.send?.(m);
  const app = await startApp(loadConfig(process.env));
  const statements = new Map<string, number>();
  app.db.onQuery(({ sql }) => {
    const kind = statementKind(sql);
    statements.set(kind, (statements.get(kind) ?? 0) + 1);
  });
  process.on('message', async (m: ServiceRequest) => {
    if (m.kind === 'tally') send({ kind: 'tally', statements: [...statements] });
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

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
