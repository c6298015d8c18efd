import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';

/** The built server entry point, as `npm start` runs it (npm test builds first). */
export const MAIN = path.resolve(__dirname, '../../dist/src/main.js');

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything it printed so far (stdout lines, stderr chunks); keeps growing. */
  lines: string[];
}

/** Starts the built server with exactly this environment and resolves once it logs that it listens. */
export function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MAIN], { env });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        const url = /"url":"(http:[^"]+)\/graphql"/.exec(line)?.[1];
        if (url) resolve({ child, url, lines });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    child.once('exit', (code, signal) => reject(new Error(`server exited with ${code ?? signal}: ${lines.join('\n')}`)));
  });
}
