// PostGraphile 5 (amber preset) on Node's http server, as `postgraphile -P postgraphile/presets/amber` would serve it:
// DATABASE_URL, HOST and PORT from the environment; started by bench/compare.ts.
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ['public'] })],
  grafserv: { port, host, graphiql: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => pgl.release().then(() => process.exit(0))));
