// PostGraphile 4.14 on Node's http server with its library defaults (no query log): DATABASE_URL, HOST and PORT
// from the environment; started by bench/compare.ts.
const http = require('node:http');
const { postgraphile } = require('postgraphile');

const port = Number(process.env.PORT);
const host = process.env.HOST ?? '127.0.0.1';
const middleware = postgraphile(process.env.DATABASE_URL, 'public', { disableQueryLog: true, setofFunctionsContainNulls: false });
const server = http.createServer(middleware);
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
